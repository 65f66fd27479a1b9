"""Test events from the command line, set-up pings in the delivery log, and one timestamp format in every body."""
from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from hi.conftest import member
from hi.integrations.api import EVENT_TYPES
from hi.integrations.testing import setup
from hi.services.webhook import deliveries
from hi.services.webhook.models import Delivery
from hi.workspaces.models import Role

from .helpers import SECRET, add_endpoint, emit, run_due
from .sink import PATH

#: The one form of a body's timestamp: UTC, microseconds, Z.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture
def endpoint(workspace, sink):
    """An active endpoint in the "default" workspace (the commands' default), delivering to the sink."""
    workspace.slug = "default"
    workspace.save()
    return add_endpoint(workspace, sink.endpoint, events="order.created")


def test_the_cli_sends_a_test_event_of_any_catalogued_type_with_its_example_and_prints_the_outcome(endpoint, sink):
    # when a test of a catalogued type the endpoint's filter does not even select is sent
    out = io.StringIO()
    call_command("webhook", "test", str(endpoint.pk), "--type", "webhook.received", "--json", stdout=out)
    result = json.loads(out.getvalue())
    # then the receiver got it, signed, with the catalog's example as its data, and the command says so
    received = sink.deliveries()[-1]
    payload = Webhook(SECRET).verify(received.body, received.headers)
    assert payload["type"] == "webhook.received" and payload["data"] == EVENT_TYPES["webhook.received"]
    assert result["delivered"] is True and result["status_code"] == 200 and result["webhook_id"] == received.headers["webhook-id"]
    # and it is in the delivery log as a test event
    delivery = Delivery.objects.get(pk=result["delivery"])
    assert delivery.kind == Delivery.Kind.TEST and delivery.status == Delivery.Status.DELIVERED
    text = io.StringIO()
    call_command("webhook", "test", str(endpoint.pk), stdout=text)
    assert re.fullmatch(r"Test event webhook\.test \(delivery #\d+, msg_[0-9a-f]{32}\) delivered: HTTP 200 in \d+ ms\.\n", text.getvalue())


def test_the_cli_test_reports_a_refusal_with_its_hint_and_exits_1(endpoint, sink):
    sink.secret = "whsec_b3RoZXItc2VjcmV0LXRoYXQtdGhlLXJlY2VpdmVyLWhhcw=="  # the receiver now verifies with another secret
    out = io.StringIO()
    with pytest.raises(CommandError, match="not delivered"):
        call_command("webhook", "test", str(endpoint.pk), "--type", "order.created", stdout=out)
    line = out.getvalue()
    assert "not delivered (HTTP 401)" in line and "the receiver refused the signature" in line and "invalid signature" in line
    assert Delivery.objects.filter(kind=Delivery.Kind.TEST, status=Delivery.Status.PENDING).count() == 1  # retried later


def test_the_cli_refuses_an_unknown_type_listing_the_ones_it_can_send(endpoint):
    with pytest.raises(CommandError) as caught:
        call_command("webhook", "test", str(endpoint.pk), "--type", "order.exploded", stdout=io.StringIO())
    assert "webhook.test" in str(caught.value) and "webhook.received" in str(caught.value)
    assert not Delivery.objects.filter(kind=Delivery.Kind.TEST).exists()


def test_connection_test_pings_are_in_the_delivery_log_marked_as_pings(endpoint, sink, client):
    # given an endpoint just added (its test ping, then its activation's), and a Test connection
    setup.check_connection(endpoint)
    pings = Delivery.objects.filter(integration=endpoint, kind=Delivery.Kind.PING).order_by("created_at", "id")
    assert [p.reason for p in pings] == ["Connection test", "Activation", "Connection test"]
    assert [p.message_id for p in pings] == [r.headers["webhook-id"] for r in sink.pings()]
    assert all(p.status == Delivery.Status.DELIVERED and p.attempt_log.get().status_code == 200 for p in pings)
    # then the log shows them as pings, with their request (signature redacted)
    client.force_login(member(endpoint.workspace, "vic", Role.VIEWER))
    listing = client.get(reverse("webhook-deliveries", args=[endpoint.pk])).content.decode()
    assert listing.count('data-kind="ping"') == 3
    detail = client.get(reverse("webhook-delivery", args=[endpoint.pk, pings[0].pk])).content.decode()
    assert "Ping (connection test)" in detail and "**REDACTED**" in detail and "&quot;type&quot;:&quot;ping&quot;" in detail
    # and a failed ping is never resent nor recovered
    sink.faults.status = 503
    with pytest.raises(setup.SetupError):
        setup.check_connection(endpoint)
    failed = Delivery.objects.filter(kind=Delivery.Kind.PING, status=Delivery.Status.FAILED).get()
    assert "HTTP 503" in failed.reason
    with pytest.raises(deliveries.ResendRefused):
        deliveries.resend(failed)
    assert deliveries.recover(endpoint, failed.created_at) == 0


def test_every_body_carries_its_timestamp_in_one_format(endpoint, sink, client, django_capture_on_commit_callbacks):
    emit(django_capture_on_commit_callbacks, endpoint.workspace, "order.created", {"customer": "José Conceição"})
    run_due()
    call_command("webhook", "test", str(endpoint.pk), stdout=io.StringIO())
    client.force_login(member(endpoint.workspace, "tess", Role.OPERATOR))
    client.post(reverse("webhook-send-test", args=[endpoint.pk]))
    run_due()
    bodies = [request.json() for request in sink.requests_to(PATH)]
    assert {body["type"] for body in bodies} == {"ping", "order.created", "webhook.test"} and len(bodies) == 5
    assert all(TIMESTAMP.fullmatch(body["timestamp"]) for body in bodies), [body["timestamp"] for body in bodies]


def test_an_endpoint_keeps_only_its_newest_pings(endpoint, sink, settings):
    settings.HI_BREAKER_FAIL_MAX = 1000
    sink.faults.status = 503  # a receiver down while set-up retries and retries
    for _ in range(deliveries.MAX_PINGS_KEPT + 5):
        with pytest.raises(setup.SetupError):
            setup.check_connection(endpoint)
    kept = Delivery.objects.filter(integration=endpoint, kind=Delivery.Kind.PING)
    assert kept.count() == deliveries.MAX_PINGS_KEPT and not kept.filter(status=Delivery.Status.DELIVERED).exists()


def test_the_console_sends_a_test_event_of_the_chosen_catalogued_type(endpoint, sink, client):
    client.force_login(member(endpoint.workspace, "tess", Role.OPERATOR))
    page = client.get(endpoint.get_absolute_url()).content.decode()
    assert '<option value="webhook.test">' in page and '<option value="integration.state_changed">' in page
    client.post(reverse("webhook-send-test", args=[endpoint.pk]), {"type": "integration.state_changed"})
    refused = client.post(reverse("webhook-send-test", args=[endpoint.pk]), {"type": "order.exploded"}, follow=True)
    assert "Choose one of the listed event types." in refused.content.decode()
    run_due()
    payload = Webhook(SECRET).verify(sink.deliveries()[-1].body, sink.deliveries()[-1].headers)
    assert payload["type"] == "integration.state_changed" and payload["data"] == EVENT_TYPES["integration.state_changed"]
    assert Delivery.objects.filter(kind=Delivery.Kind.TEST).count() == 1
