"""Receiving events: Standard Webhooks verification, dedupe, webhook.received, and fuzzed bad input."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hi.integrations.api import Event, InboundEvent, Integration, IntegrationState, receive_path, save_attributes, standard_webhooks
from hi.integrations.testing import process_pending
from hi.integrations.testing.inbound import InboundReceiverContractTests, post_as_provider
from hi.services.webhook import rotation
from hi.services.webhook.models import Delivery

from .helpers import SECRET

pytestmark = pytest.mark.django_db
Status = InboundEvent.Status
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def endpoint(workspace, name="n8n", url="https://n8n.example.com/hook", events="*") -> Integration:
    """An active webhook endpoint (its outbound URL is never called here)."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name=name, unique_id=url, state=IntegrationState.ACTIVE
    )
    save_attributes(integration, {"url": url, "secret": SECRET, "events": events}, actor="test")
    return integration


def body_for(event_id: str, event_type: str = "invoice.paid") -> bytes:
    """A sender's Standard Webhooks body; the test puts the webhook-id in data so headers can be derived."""
    return json.dumps({"type": event_type, "timestamp": "2026-12-03T10:00:00Z", "data": {"id": event_id, "amount": "129.90"}}).encode()


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The sender's headers for `body` (webhook-id taken from data.id when present)."""
    try:
        msg_id = json.loads(body)["data"]["id"]
    except (ValueError, KeyError, TypeError):
        msg_id = "msg_fixed"
    return standard_webhooks.headers(msg_id, int(time.time()) if timestamp is None else timestamp, body, [secret])


def received(integration) -> list[Event]:
    """The webhook.received events the endpoint published."""
    return list(Event.objects.filter(integration=integration, type="webhook.received"))


class TestWebhookReceiverContract(InboundReceiverContractTests):
    """The framework's receiver contract, through /hooks/<key>/ of a webhook endpoint."""

    signature_header = "webhook-signature"

    @pytest.fixture
    def integration(self, workspace) -> Integration:
        """An active webhook endpoint."""
        return endpoint(workspace)

    def valid_body(self, event_id: str) -> bytes:
        """A Standard Webhooks event body."""
        return body_for(event_id)

    def signed_headers(self, integration: Integration, body: bytes) -> dict[str, str]:
        """The Standard Webhooks headers signing the body."""
        return signed(body)

    def stale_signed_headers(self, integration: Integration, body: bytes) -> dict[str, str]:
        """Signed an hour ago: past Standard Webhooks' five minutes."""
        return signed(body, timestamp=int(time.time()) - 3600)


def test_a_verified_request_is_published_as_webhook_received_with_the_senders_type(workspace):
    # given
    integration = endpoint(workspace)
    body = body_for("msg_abc")
    # when
    response = post_as_provider(receive_path(integration), body, signed(body))
    # then the request only stored it
    assert response.status_code == 202
    row = InboundEvent.objects.get(integration=integration)
    assert (row.status, row.event_type) == (Status.ACCEPTED, "invoice.paid") and received(integration) == []
    # and the worker's pass publishes it, once
    assert process_pending() == 1 and process_pending() == 0
    [event] = received(integration)
    assert event.data["type"] == "invoice.paid" and event.data["webhook_id"] == "msg_abc"
    assert event.data["payload"] == json.loads(body) and event.data["integration"] == str(integration.pk)
    row.refresh_from_db()
    assert row.status == Status.PROCESSED and row.processed_at


# 30 s past the 5-minute tolerance: whole-second timestamps and a busy machine must not make it pass.
@pytest.mark.parametrize("age_s, public", [(330, "stale or future timestamp"), (-330, "stale or future timestamp")])
def test_a_stale_or_future_timestamp_is_refused_with_401(workspace, age_s, public):
    integration = endpoint(workspace)
    body = body_for("msg_old")
    response = post_as_provider(receive_path(integration), body, signed(body, timestamp=int(time.time()) - age_s))
    assert response.status_code == 401 and json.loads(response.content) == {"error": public}
    assert InboundEvent.objects.get(integration=integration).status == Status.REJECTED
    assert received(integration) == []


@pytest.mark.parametrize("body, status", [(b"not json", 400), (b"[1, 2]", 400)])
def test_a_signed_body_that_is_not_a_json_object_is_400_and_logged(workspace, body, status):
    integration = endpoint(workspace)
    response = post_as_provider(receive_path(integration), body, signed(body))
    assert response.status_code == status
    row = InboundEvent.objects.get(integration=integration)
    assert (row.status, row.http_status) == (Status.REJECTED, status) and received(integration) == []


def test_the_retired_secret_is_accepted_during_the_overlap_only(workspace):
    # given a rotated endpoint
    integration = endpoint(workspace)
    new = rotation.rotate(integration, "test", overlap=timedelta(seconds=1))
    integration.refresh_from_db()
    old_body, new_body, late_body = body_for("msg_1"), body_for("msg_2"), body_for("msg_3")
    # when senders still sign with the old secret, or already with the new one
    assert post_as_provider(receive_path(integration), old_body, signed(old_body, SECRET)).status_code == 202
    assert post_as_provider(receive_path(integration), new_body, signed(new_body, new)).status_code == 202
    # then after the overlap the old secret is refused
    time.sleep(1.1)
    assert post_as_provider(receive_path(integration), late_body, signed(late_body, SECRET)).status_code == 401
    process_pending()
    assert len(received(integration)) == 2


def test_received_events_reach_other_endpoints_but_never_echo_back(workspace, django_capture_on_commit_callbacks):
    # given two endpoints in the workspace
    sender = endpoint(workspace)
    other = endpoint(workspace, name="relay", url="https://relay.example.com/in", events="webhook.*")
    body = body_for("msg_echo")
    # when the first receives an event
    with django_capture_on_commit_callbacks(execute=True):
        post_as_provider(receive_path(sender), body, signed(body))
    # then nothing ran in the request: the worker processes it
    assert not Delivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert process_pending() == 1
    # and the other endpoint gets a delivery of it, the sender none
    assert list(Delivery.objects.values_list("integration_id", "event_type")) == [(other.pk, "webhook.received")]


HEADER_NAMES = st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "X-Other", "Authorization"])
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=80)


@FUZZ
@given(
    body=st.binary(max_size=2048) | st.builds(lambda i: body_for(i), st.text(max_size=40)),
    headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=5)
)
def test_fuzz_random_bodies_and_headers_never_500_and_never_create_an_event(workspace, body, headers):
    # given
    integration = Integration.objects.filter(workspace=workspace).first() or endpoint(workspace)
    # when
    response = post_as_provider(receive_path(integration), body, headers)
    # then
    assert response.status_code in (400, 401, 413), response.content
    assert process_pending() == 0 and received(integration) == []
    assert not InboundEvent.objects.filter(integration=integration).exclude(status=Status.REJECTED).exists()


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_publishes_what_was_received(workspace):
    from hi.integrations.testing import WorkerProcess

    # given a received request, stored and answered
    integration = endpoint(workspace)
    body = body_for("msg_worker")
    assert post_as_provider(receive_path(integration), body, signed(body)).status_code == 202
    # when a worker runs until nothing is due
    WorkerProcess(drain=True, poll_s=0.05).run()
    # then the event was published and dispatched
    [event] = received(integration)
    assert event.data["webhook_id"] == "msg_worker" and event.dispatched_at is not None
    assert InboundEvent.objects.get(integration=integration).status == Status.PROCESSED
