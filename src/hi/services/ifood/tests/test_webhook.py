"""Webhook mode: X-IFood-Signature verified on the raw body, 202 at once, KEEPALIVE answered, duplicates processed once."""
from __future__ import annotations

import json
import uuid

import pytest

from hi.integrations.api import Directive, InboundEvent, receive_path, save_attributes, verify_hmac_sha256
from hi.integrations.testing import process_pending
from hi.integrations.testing.inbound import InboundReceiverContractTests, post_as_provider
from hi.orders.models import Order
from hi.services.ifood.handlers import TOPIC_FETCH

from .helpers import MERCHANTS, add_ifood, run_directives, sign

# iFood's documented test vector: https://developer.ifood.com.br/en-US/docs/guides/modules/events/webhook-request
VECTOR_SECRET = "dummysecret"
VECTOR_BODY = (
    b'{"code":"PLC","createdAt":"2023-02-20T18:19:03.20162269Z","fullCode":"PLACED",'
    b'"id":"a38ba215-f949-4b2c-982a-0582a9d0c10e","merchantId":"cad65e8f-6fc6-438a-b159-e64a902a6b9a",'
    b'"orderId":"2c97e104-35ed-4c18-85d7-854a40b6b9e3"}'
)
VECTOR_SIGNATURE = "6f9ed23a7b505a3b6907c5f6eb2ad1b056fbf35a643d365a9a072ed7aabca153"


def event_body(event_id: str, code: str = "PLC", order_id: str | None = None, **extra) -> bytes:
    """One iFood event as iFood posts it (compact JSON)."""
    event = {"id": event_id, "code": code, "fullCode": {"PLC": "PLACED"}.get(code, code),
             "orderId": order_id or str(uuid.uuid5(uuid.NAMESPACE_URL, event_id)),
             "merchantId": MERCHANTS[0], "createdAt": "2026-12-03T10:00:00.123Z", "salesChannel": "IFOOD", "metadata": {}, **extra}
    return json.dumps(event, separators=(",", ":")).encode()


def test_the_documented_signature_vector_verifies():
    """Given iFood's test vector, then hi's HMAC check accepts its signature and refuses a changed body."""
    assert verify_hmac_sha256(VECTOR_SECRET, VECTOR_BODY, VECTOR_SIGNATURE, "hex")
    assert not verify_hmac_sha256(VECTOR_SECRET, VECTOR_BODY.replace(b'"PLC"', b'"CFM"'), VECTOR_SIGNATURE, "hex")


@pytest.mark.django_db
def test_the_receiver_accepts_the_documented_vector(workspace, ifood_sim):
    """Given an integration whose client secret is dummysecret, when iFood's vector is posted, then it is accepted."""
    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    save_attributes(integration, {"client_secret": VECTOR_SECRET}, actor="test")
    response = post_as_provider(receive_path(integration), VECTOR_BODY, {"X-IFood-Signature": VECTOR_SIGNATURE})
    assert response.status_code == 202
    assert InboundEvent.objects.get(integration=integration).provider_event_id == "a38ba215-f949-4b2c-982a-0582a9d0c10e"


class TestIFoodReceiver(InboundReceiverContractTests):
    """The framework's receiver contract, with iFood's signature."""

    signature_header = "X-IFood-Signature"
    no_timestamp_reason = "X-IFood-Signature is an HMAC of the body alone; a replay carries the same event id"

    @pytest.fixture
    def integration(self, workspace, ifood_sim):
        """An iFood integration receiving events by webhook."""
        return add_ifood(workspace, ifood_sim, event_mode="webhook")

    def valid_body(self, event_id: str) -> bytes:
        """A PLC event as iFood posts it."""
        return event_body(event_id)

    def signed_headers(self, integration, body: bytes) -> dict[str, str]:
        """iFood's signature of the body."""
        return {"X-IFood-Signature": sign(body)}

    def processed(self, integration) -> int:
        """A processed PLC queues one fetch of the order's details (activation's own events are not counted)."""
        self.worker_pass()
        return Directive.objects.filter(integration=integration, topic=TOPIC_FETCH).count()


@pytest.mark.django_db
class TestWebhookMode:
    """What iFood's webhook sender sees, and what hi does with it."""

    @pytest.fixture
    def integration(self, workspace, ifood_sim):
        """An iFood integration receiving events by webhook."""
        return add_ifood(workspace, ifood_sim, event_mode="webhook")

    def post(self, integration, body: bytes, signature: str | None = None):
        """POST the body with its signature (or the one given)."""
        return post_as_provider(receive_path(integration), body, {"X-IFood-Signature": signature if signature is not None else sign(body)})

    def test_a_bad_signature_is_refused_with_401_and_nothing_is_processed(self, integration):
        body = event_body("evt-bad")
        response = self.post(integration, body, sign(body, "not-the-secret"))
        assert response.status_code == 401
        assert InboundEvent.objects.get(integration=integration).status == InboundEvent.Status.REJECTED
        assert process_pending() == 0 and not Order.objects.exists()

    def test_a_re_serialised_body_does_not_verify(self, integration):
        """iFood signs the exact bytes: the same JSON with spaces is another body (iFood's webhook request page)."""
        body = event_body("evt-spaced")
        spaced = json.dumps(json.loads(body)).encode()
        assert self.post(integration, spaced, sign(body)).status_code == 401

    def test_keepalive_is_answered_202_with_the_merchants_hi_serves(self, integration):
        body = json.dumps({"code": "KEEPALIVE", "fullCode": "KEEPALIVE", "id": "ka-1", "merchantIds": [MERCHANTS[0], "not-ours"]}).encode()
        response = self.post(integration, body)
        assert response.status_code == 202 and response.json() == {"merchantIds": [MERCHANTS[0]]}
        process_pending()
        assert not Order.objects.exists()

    def test_an_event_without_a_code_is_refused_with_400(self, integration):
        body = json.dumps({"id": "x"}).encode()
        assert self.post(integration, body).status_code == 400

    def test_a_placed_order_posted_twice_is_created_once(self, integration, ifood_sim):
        """Given iFood posts the same PLC twice (a retry after a slow answer), then one order exists."""
        order_id = ifood_sim.place_order()
        plc = next(e for e in ifood_sim.events(next(iter(ifood_sim.credentials))) if e["orderId"] == order_id)
        body = json.dumps(plc, separators=(",", ":")).encode()
        assert self.post(integration, body).status_code == 202
        assert self.post(integration, body).status_code == 200
        process_pending()
        run_directives()
        assert Order.objects.filter(external_id=order_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_simulators_signed_webhooks_become_orders_once_and_bad_signatures_are_refused(live_server, workspace, ifood_sim):
    """Given iFood posting (with duplicates) to hi's live receive URL, then each order is created once; a bad signature gets 401."""
    from hi.integrations.testing.waiting import wait_for

    from .helpers import CLIENT_ID

    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    ifood_sim.duplicates = True
    sender = ifood_sim.configure_webhook(
        f"{live_server.url}{receive_path(integration)}", client_id=CLIENT_ID, keepalive_s=0.2, per_merchant=True
    )
    placed = set(ifood_sim.place_orders(3))
    assert wait_for(lambda: len(sender.delivered) >= 6, 20), sender.attempts
    process_pending()
    run_directives()
    assert set(Order.objects.values_list("external_id", flat=True)) == placed
    assert wait_for(lambda: all(ifood_sim.is_connected(m) for m in MERCHANTS), 10), "KEEPALIVE answers did not put the stores online"
    # when iFood's signature is wrong (homologation does this on purpose)
    ifood_sim.webhook_bad_signature = True
    bad = ifood_sim.place_order()
    assert wait_for(lambda: any(a["status"] == 401 for a in sender.attempts), 20)
    process_pending()
    run_directives()
    assert not Order.objects.filter(external_id=bad).exists()
    assert not InboundEvent.objects.filter(integration=integration, status__in=["accepted", "processed"], body__contains=bad).exists()
