"""Meta at the receive URL: the GET verification, the signature over the escaped bytes, batched notifications item by item."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client

from hi.integrations.api import InboundEvent, receive_path
from hi.integrations.testing.inbound import post_as_provider
from hi.messaging.models import Contact, Message

from .helpers import APP_SECRET, VERIFY_TOKEN, deliver, process

pytestmark = pytest.mark.django_db
Status = InboundEvent.Status


def handshake(integration, **params):
    """Meta's GET verification with these query parameters."""
    return Client().get(receive_path(integration), {"hub.mode": "subscribe", "hub.challenge": "1158201444", **params})


def test_the_right_verify_token_gets_the_raw_challenge_back(whatsapp):
    # when
    response = handshake(whatsapp, **{"hub.verify_token": VERIFY_TOKEN})
    # then
    assert (response.status_code, response.content, response["Content-Type"]) == (200, b"1158201444", "text/plain")
    assert not InboundEvent.objects.filter(integration=whatsapp).exists()


def test_a_wrong_verify_token_is_403_and_only_the_refusal_is_logged(whatsapp):
    # when
    response = handshake(whatsapp, **{"hub.verify_token": "not-the-token-123"})
    # then
    assert response.status_code == 403 and b"1158201444" not in response.content
    row = InboundEvent.objects.get(integration=whatsapp)
    assert (row.status, row.http_status, row.body) == (Status.REJECTED, 403, "")
    assert "verify_token does not match" in row.reason and "not-the-token-123" not in json.dumps(row.headers) + row.reason


def test_a_mode_other_than_subscribe_is_403_even_with_the_right_token(whatsapp):
    # when
    response = handshake(whatsapp, **{"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN})
    # then
    assert response.status_code == 403
    assert "hub.mode" in InboundEvent.objects.get(integration=whatsapp).reason


# Meta signs the body as it sends it: non-ASCII escaped as lowercase \uXXXX, and "/" as "\/".
ESCAPED_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{'
    b'"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},'
    b'"contacts":[{"profile":{"name":"Jo\\u00e3o Ara\\u00fajo"},"wa_id":"5511987654321"}],'
    b'"messages":[{"from":"5511987654321","id":"wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFDNBQ0Y","timestamp":"1764763200",'
    b'"type":"text","text":{"body":"Card\\u00e1pio de hoje? 1\\/2 pizza \\u00e0 moda @ R$ 30"}}]},"field":"messages"}]}]}'
)


def test_the_signature_over_metas_escaped_bytes_verifies_and_a_re_serialised_body_would_not(whatsapp):
    # given: the signature computed here, over those exact bytes
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), ESCAPED_BODY, hashlib.sha256).hexdigest()
    reserialised = json.dumps(json.loads(ESCAPED_BODY), ensure_ascii=False, separators=(",", ":")).encode()
    # then: re-serialising changes the bytes, so it changes the HMAC a receiver would compare
    assert reserialised != ESCAPED_BODY
    assert "sha256=" + hmac.new(APP_SECRET.encode(), reserialised, hashlib.sha256).hexdigest() != signature
    # when: the request is posted as Meta posts it
    response = post_as_provider(receive_path(whatsapp), ESCAPED_BODY, {"X-Hub-Signature-256": signature})
    # then: hi verified the raw bytes, and reads the text as the customer wrote it
    assert response.status_code == 200
    process()
    message = Message.objects.get(integration=whatsapp)
    assert message.text == "Cardápio de hoje? 1/2 pizza à moda @ R$ 30"
    assert message.contact.profile_name == "João Araújo" and message.contact.phone == "+5511987654321"
    # and the re-serialised bytes under Meta's signature are refused
    refused = post_as_provider(receive_path(whatsapp), reserialised, {"X-Hub-Signature-256": signature})
    assert refused.status_code == 401


def test_a_bad_or_missing_signature_is_401_and_nothing_is_processed(whatsapp):
    # when
    missing = post_as_provider(receive_path(whatsapp), ESCAPED_BODY)
    wrong = post_as_provider(receive_path(whatsapp), ESCAPED_BODY, {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    # then
    assert (missing.status_code, wrong.status_code) == (401, 401)
    process()
    assert not Message.objects.exists()


def test_one_notification_with_several_entries_changes_and_items_stores_each_once(whatsapp, wa_sim):
    # given: several customers writing at once, batched by Meta, and the same notification sent twice
    wa_sim.batch_notifications = 10
    wa_sim.duplicate_notifications = True
    for n, wa_id in enumerate(("5511911110001", "5511911110002", "5511911110003")):
        wa_sim.say(wa_id, f"Pedido {n}", name=f"Cliente {n}")
    # when
    answers = deliver(wa_sim, whatsapp)
    process()
    # then: every answer is 200, each message is stored once, and the repeated notification is a duplicate
    assert answers and set(answers) == {200}
    assert sorted(Message.objects.values_list("text", flat=True)) == ["Pedido 0", "Pedido 1", "Pedido 2"]
    assert Contact.objects.filter(workspace=whatsapp.workspace).count() == 3
    assert InboundEvent.objects.filter(integration=whatsapp, status=Status.DUPLICATE).exists()


@pytest.mark.parametrize("kind", [
    "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "button", "reaction", "unsupported", "hologram"
])
def test_every_kind_of_message_is_stored_and_unknown_ones_are_kept_raw(whatsapp, wa_sim, kind):
    # when
    wa_sim.customer_says("5511987654321", "Olá", kind=kind)
    deliver(wa_sim, whatsapp)
    process()
    # then
    message = Message.objects.get(integration=whatsapp)
    assert message.kind == kind and message.raw["type"] == kind and message.status == "received"
    assert message.known_kind is (kind not in ("unsupported", "hologram"))
    if kind in ("image", "video", "document"):
        assert message.text == "Olá" and message.media["id"]
    assert not InboundEvent.objects.filter(integration=whatsapp, status=Status.FAILED).exists()


def post_statuses(integration, *statuses: dict) -> None:
    """One notification per status, signed as Meta signs them, each answered 200."""
    number = integration.attributes.get(key="phone_number_id").value
    for status in statuses:
        value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": number}, "statuses": [status]}
        entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
        body = json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert post_as_provider(receive_path(integration), body, {"X-Hub-Signature-256": signature}).status_code == 200


def test_notifications_processed_together_fail_an_unreadable_status_alone_and_apply_the_others(whatsapp, wa_sim):
    # given: two sent messages, and four notifications: their statuses, one without a message id, one for a message hi never sent
    from hi.messaging import api
    from hi.messaging.channels import TemplateSend

    from .helpers import run_directives

    template = TemplateSend("order_ready", "pt_BR", ("Ana", "4821", "R$ 10,00", "Cantina"))
    sent = [api.queue_outbound(whatsapp, f"55119222200{n}", template=template, actor="test") for n in range(2)]
    run_directives()
    wamids = [Message.objects.get(pk=m.pk).provider_message_id for m in sent]
    post_statuses(
        whatsapp, {"id": wamids[0], "status": "delivered", "timestamp": "1700000000"}, {"status": "read", "timestamp": "1700000001"},
        {"id": "wamid.never-sent", "status": "read", "timestamp": "1700000002"},
        {"id": wamids[1], "status": "read", "timestamp": "1700000003"},
    )
    # when: one pass processes them together
    assert process() == 4
    # then: the unreadable status is stored failed with why, the others applied; every notification processed
    assert [Message.objects.get(pk=m.pk).status for m in sent] == ["delivered", "read"]
    failed = InboundEvent.objects.get(integration=whatsapp, event_type="status", status=Status.FAILED)
    assert "without a message id" in failed.reason
    assert not InboundEvent.objects.filter(integration=whatsapp, event_type="notification").exclude(status=Status.PROCESSED).exists()
