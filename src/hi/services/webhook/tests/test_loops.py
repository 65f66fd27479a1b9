"""Webhook endpoints cannot loop: deliveries carry Hi-Origin, a message back at its hi is not forwarded, own receive URLs are refused."""
from __future__ import annotations

import json
import time

import pytest
import requests
from django.db import transaction

from hi.integrations.api import (
    ConfigurationInvalid,
    Directive,
    DirectiveFailed,
    Event,
    Integration,
    IntegrationState,
    origin,
    publish,
    receive_path,
    receive_url,
    save_attributes,
    standard_webhooks,
)
from hi.integrations.testing import FakeProviderServer, lifecycle, process_pending
from hi.integrations.testing.inbound import post_as_provider
from hi.services.webhook.gateway import WebhookGateway
from hi.services.webhook.handlers import deliver
from hi.services.webhook.models import Delivery

from .helpers import SECRET, make_due, run_due

HOP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}


class Relay(FakeProviderServer):
    """An automation tool that forwards each request it gets, headers and all, to `target` (set later)."""

    def __init__(self) -> None:
        """A relay with no target yet."""
        super().__init__()
        self.target = ""
        self.route("POST", "/relay", self.forward)

    @property
    def endpoint(self) -> str:
        """The URL an endpoint delivers to."""
        return f"{self.url}/relay"

    def forward(self, request):
        """POST /relay: forward the request to the target, as a relay would, and answer with its answer."""
        headers = {name: value for name, value in request.headers.items() if name not in HOP_HEADERS}
        answer = requests.post(self.target, data=request.body, headers=headers, timeout=10)
        return answer.status_code, {"Content-Type": "application/json"}, answer.content


@pytest.fixture
def relays():
    """Two relays on 127.0.0.1."""
    pair = [Relay().start(), Relay().start()]
    yield pair
    for relay in pair:
        relay.stop()


def endpoint(workspace, name: str, url: str, events: str = "webhook.received") -> Integration:
    """An active endpoint that forwards the events it is given to `url` (both share one secret, as in the issue)."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name=name, unique_id=url, state=IntegrationState.ACTIVE
    )
    save_attributes(integration, {"url": url, "secret": SECRET, "events": events}, actor="test")
    return integration


def signed(body: bytes, msg_id: str) -> dict[str, str]:
    """A sender's Standard Webhooks headers."""
    return standard_webhooks.headers(msg_id, int(time.time()), body, [SECRET])


@pytest.mark.django_db(transaction=True)
def test_two_endpoints_forwarding_to_each_others_receive_urls_through_relays_stop_after_one_round(live_server, workspace, relays):
    # given two endpoints whose deliveries reach each other's receive URL through relays that copy headers
    first = endpoint(workspace, "first", relays[0].endpoint)
    second = endpoint(workspace, "second", relays[1].endpoint)
    relays[0].target = f"{live_server.url}{receive_path(second)}"
    relays[1].target = f"{live_server.url}{receive_path(first)}"
    # when an outside sender posts one event to the first endpoint, and the worker runs for many rounds
    body = json.dumps({"type": "invoice.paid", "data": {"id": "inv_1"}}).encode()
    assert post_as_provider(receive_path(first), body, signed(body, "msg_start")).status_code == 202
    for _ in range(8):
        process_pending()
        make_due()
        run_due()
    # then the event went out once and came back once; the copy that came back was not forwarded again
    sent = Delivery.objects.filter(status=Delivery.Status.DELIVERED)
    assert sent.count() == 1 and len(relays[0].requests) + len(relays[1].requests) == 1
    skipped = Delivery.objects.get(status=Delivery.Status.SKIPPED)
    assert "already went through this hi installation" in skipped.reason
    received = Event.objects.filter(type="webhook.received").order_by("created_at")
    assert [event.data["via"] for event in received] == [[], [origin.installation_id()]]


@pytest.mark.django_db
def test_every_delivery_carries_this_installations_origin_after_where_the_message_has_been(
    workspace, sink, django_capture_on_commit_callbacks
):
    # given an endpoint delivering to the sink, and a received event that came through another hi
    target = endpoint(workspace, "sink", sink.endpoint, events="*")
    other = Integration.objects.create(workspace=workspace, integration_type="webhook", name="in", unique_id="in", state="active")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(
            "webhook.received", {"integration": str(other.pk), "payload": {}, "via": ["0123456789abcdef"]}, workspace, integration=other
        )
        publish("order.created", {"id": 1}, workspace)
    # when the deliveries are sent
    run_due()
    # then each names the path so far, then this installation
    origins = sorted(request.headers["hi-origin"] for request in sink.requests_to("/hook"))
    assert origins == sorted([origin.installation_id(), f"0123456789abcdef, {origin.installation_id()}"])
    assert Delivery.objects.filter(integration=target, status=Delivery.Status.DELIVERED).count() == 2


@pytest.mark.django_db
def test_a_message_that_went_through_too_many_installations_is_not_forwarded(workspace, django_capture_on_commit_callbacks):
    # given an endpoint receiving a message whose Hi-Origin lists MAX_HOPS other installations
    receiver = endpoint(workspace, "in", "https://in.example.com/hook")
    forward = endpoint(workspace, "out", "https://out.example.com/hook")
    body = json.dumps({"type": "invoice.paid"}).encode()
    path = ", ".join(f"{n:016x}" for n in range(origin.MAX_HOPS))
    assert post_as_provider(receive_path(receiver), body, {**signed(body, "msg_far"), "Hi-Origin": path}).status_code == 202
    # when the worker publishes it
    with django_capture_on_commit_callbacks(execute=True):
        process_pending()
    # then it is kept as skipped for the other endpoint, with the reason
    delivery = Delivery.objects.get(integration=forward)
    assert delivery.status == Delivery.Status.SKIPPED and f"through {origin.MAX_HOPS} hi installations" in delivery.reason
    assert not Directive.objects.filter(integration=forward).exists()


@pytest.mark.django_db
def test_a_delivery_url_that_is_one_of_our_receive_urls_is_refused_offline_under_any_host(workspace):
    # given an endpoint and its receive URL, as HI_BASE_URL gives it and through loopback
    other = endpoint(workspace, "other", "https://other.example.com/hook")
    key_path = receive_path(other)
    for url in (receive_url(other), f"http://127.0.0.1:8000{key_path}", f"http://localhost:9999{key_path}"):
        # when an operator configures a delivery to it
        with pytest.raises(ConfigurationInvalid) as refused:
            WebhookGateway().validate_configuration({"url": url, "events": "*"})
        # then the form says why
        assert "own receive URLs" in refused.value.errors["url"]
    WebhookGateway().validate_configuration({"url": "https://n8n.example.com/hook", "events": "*"})


@pytest.mark.django_db
def test_a_stored_delivery_url_that_is_one_of_our_receive_urls_is_refused_at_send_time(workspace, sink, django_capture_on_commit_callbacks):
    # given an endpoint whose URL became one of our receive URLs (saved before this check existed)
    looped = endpoint(workspace, "looped", sink.endpoint, events="*")
    other = endpoint(workspace, "other", "https://other.example.com/hook", events="nothing.matches")
    save_attributes(looped, {"url": f"{sink.url}{receive_path(other)}"}, actor="test")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish("order.created", {"id": 1}, workspace)
    directive = Directive.objects.get(integration=looped)
    # when the worker sends it
    with pytest.raises(DirectiveFailed):
        deliver(directive)
    # then nothing was posted, and the delivery log says why
    assert sink.requests == []
    delivery = Delivery.objects.get(integration=looped)
    assert delivery.status == Delivery.Status.FAILED and "own receive URLs" in delivery.reason


@pytest.mark.django_db
def test_activating_an_endpoint_whose_url_is_one_of_our_receive_urls_fails_without_calling_it(workspace, sink):
    # given a disabled endpoint whose stored URL is another endpoint's receive URL, reached through the sink's host
    other = endpoint(workspace, "other", "https://other.example.com/hook", events="nothing.matches")
    looped = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name="looped", unique_id="looped", state=IntegrationState.DISABLED
    )
    save_attributes(looped, {"url": f"{sink.url}{receive_path(other)}", "secret": SECRET}, actor="test")
    # when it is activated
    looped = lifecycle.activate(looped, "test")
    # then its ping was refused before any request, and the reason says why
    assert looped.state == IntegrationState.SETUP_ERROR and "own receive URLs" in looped.reason
    assert sink.requests == []
