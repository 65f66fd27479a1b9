"""Outbound webhooks survive a SIGKILLed worker: every event arrives at least once, under one webhook-id."""
from __future__ import annotations

import signal
import subprocess
from collections import defaultdict

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from hi.integrations.api import Directive, DirectiveStatus, IntegrationState, IntegrationType, publish
from hi.integrations.testing import DirectiveAttempt, processes, setup
from hi.integrations.testing.waiting import wait_for
from hi.services.webhook.handlers import TOPIC_DELIVER
from hi.services.webhook.models import Delivery

from .helpers import SECRET
from .sink import WebhookSink

# Worker subprocesses only see committed rows: the test database must really commit.
pytestmark = pytest.mark.django_db(transaction=True)
EVENTS = 8
#: Long enough that the worker is surely still waiting for the answer when it is killed.
SLOW_S = 1.5


@pytest.fixture
def start_worker():
    """Start `manage.py hi_worker` subprocesses against the test database; kill leftovers at teardown."""
    # The sink listens on 127.0.0.1 over http; a subprocess reads this from the environment.
    with processes.worker_pool(env={"HI_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}) as start:
        yield start


def kill(worker: subprocess.Popen) -> str:
    """SIGKILL a worker (no cleanup, no flush) and return what it printed."""
    worker.send_signal(signal.SIGKILL)
    output, _ = worker.communicate(timeout=10)
    return output


def deliveries_of(sink: WebhookSink) -> list:
    """The order.created deliveries the sink received, in arrival order."""
    return [r for r in sink.deliveries() if r.json()["type"] == "order.created"]


def test_a_worker_killed_mid_send_loses_no_delivery_and_resends_under_the_same_webhook_id(
    workspace, sink, settings, start_worker
):
    """Given a slow receiver, when the worker dies mid-send, a second worker delivers each queued event at least once, under one id."""
    # Given: an active endpoint on the sink, and EVENTS order.created deliveries queued for it.
    settings.HI_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    # Only order.created: the activation's own integration.state_changed event is not delivered.
    raw = {"url": sink.endpoint, "secret": SECRET, "events": "order.created"}
    integration = setup.add_integration(workspace, IntegrationType.WEBHOOK, "Endpoint", raw, actor="test")
    assert integration.state == IntegrationState.ACTIVE
    for n in range(EVENTS):
        with transaction.atomic():
            publish("order.created", {"n": n}, workspace)  # its delivery is queued once this commits
    assert Directive.objects.filter(topic=TOPIC_DELIVER, status=DirectiveStatus.QUEUED).count() == EVENTS
    sink.faults.delay_s = SLOW_S

    # When: the first worker is killed while it waits for the sink's answer ...
    first = start_worker()
    try:
        assert wait_for(lambda: len(deliveries_of(sink)) >= 1, 30), "the first worker never sent anything"
    finally:
        first_output = kill(first)
    in_flight = deliveries_of(sink)[0]
    assert len(deliveries_of(sink)) == 1, first_output  # killed while waiting for the first answer
    assert Directive.objects.filter(topic=TOPIC_DELIVER, status=DirectiveStatus.RUNNING).exists(), first_output

    # ... and a second worker takes over (once the first one's heartbeat is stale).
    sink.faults.delay_s = 0.0
    second = start_worker()
    deliveries = Directive.objects.filter(topic=TOPIC_DELIVER)
    all_done = lambda: not deliveries.exclude(status=DirectiveStatus.DONE).exists()  # noqa: E731
    try:
        finished = wait_for(all_done, 60, interval_s=0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second_output, _ = second.communicate(timeout=20)
    assert finished, (list(deliveries.values_list("id", "status", "last_error")), second_output)
    assert second.returncode == 0, second_output

    # Then: every event reached the sink at least once, and every request verifies.
    received = deliveries_of(sink)
    sent: dict[int, list] = defaultdict(list)
    for request in received:
        payload = Webhook(SECRET).verify(request.body, request.headers)  # the sink refused (401) any that did not
        sent[payload["data"]["n"]].append(request)
    assert sorted(sent) == list(range(EVENTS))
    ids = {n: {r.headers["webhook-id"] for r in requests} for n, requests in sent.items()}
    # A re-send carries the webhook-id of the first send (the receiver's idempotency key) ...
    assert all(len(one) == 1 for one in ids.values()), ids
    # ... and distinct events carry distinct ids.
    assert len(set.union(*ids.values())) == EVENTS, ids
    # The delivery in flight at the kill was re-queued as interrupted, and sent once more, byte for byte.
    assert DirectiveAttempt.objects.filter(
        directive__topic=TOPIC_DELIVER, outcome=DirectiveAttempt.Outcome.INTERRUPTED
    ).exists()
    again = sent[in_flight.json()["data"]["n"]]
    assert len(again) == 2 and again[0].body == again[1].body, [(r.headers, r.body) for r in again]
    assert all(len(requests) == 1 for n, requests in sent.items() if requests is not again)
    # And the delivery log agrees: every delivery delivered.
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}
