"""The messaging console and CLI on WhatsApp: the inbox, the 24-hour window, uncertain sends, media, workspaces apart."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from hi.conftest import member
from hi.integrations.api import InboundEvent, Integration, attribute_values
from hi.messaging import api
from hi.messaging.models import Contact, Message
from hi.orders.tests.helpers import make_order
from hi.workspaces.models import Role

from .helpers import CUSTOMER, attributes, customer_writes, run_directives, work_until

pytestmark = pytest.mark.django_db
INBOX = reverse("messaging-inbox")


def thread_url(contact: Contact) -> str:
    """The conversation page."""
    return reverse("messaging-thread", args=[contact.pk])


def messages_cli(*args: str) -> str:
    """Run manage.py messages and return what it printed."""
    out = io.StringIO()
    call_command("messages", *args, stdout=out)
    return out.getvalue()


def close_window(contact: Contact) -> None:
    """The customer last wrote 25 hours ago."""
    long_ago = timezone.now() - timedelta(hours=25)
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=long_ago)
    contact.messages.filter(direction="in").update(created_at=long_ago)


def test_the_inbox_lists_conversations_newest_first_with_unread_counts_and_opening_one_reads_it(operator_client, whatsapp, wa_sim):
    # given two customers wrote, the second one twice
    customer_writes(wa_sim, whatsapp, "Olá!", wa_id="5511911110001")
    customer_writes(wa_sim, whatsapp, "Boa noite", wa_id="5511911110002")
    customer_writes(wa_sim, whatsapp, "Vocês entregam?", wa_id="5511911110002")
    # when
    page = operator_client.get(INBOX)
    # then
    phones = [row["contact"].phone for row in page.context["rows"]]
    assert phones == ["+5511911110002", "+5511911110001"]
    assert [row["contact"].unread for row in page.context["rows"]] == [2, 1]
    assert "Vocês entregam?" in page.content.decode()
    # when the operator opens the second conversation
    contact = Contact.objects.get(phone="+5511911110002")
    assert operator_client.get(thread_url(contact)).status_code == 200
    # then it is read, and htmx's refresh of the list shows that
    refreshed = operator_client.get(INBOX, headers={"HX-Request": "true"})
    html = refreshed.content.decode()
    assert html.count("data-unread=") == 1 and 'data-unread="1"' in html and "<html" not in html


def test_within_the_window_the_console_offers_a_free_reply_and_outside_it_only_templates(operator_client, whatsapp, wa_sim):
    # given a customer who just wrote
    customer_writes(wa_sim, whatsapp, "Oi")
    contact = Contact.objects.get(phone=f"+{CUSTOMER}")
    page = operator_client.get(thread_url(contact)).content.decode()
    assert 'data-window="open"' in page and 'name="text"' in page
    # when the reply is sent
    response = operator_client.post(reverse("messaging-reply", args=[contact.pk]), {"kind": "text", "text": "Olá! Como posso ajudar?"})
    assert response.status_code == 302
    assert Message.objects.get(direction="out").text == "Olá! Como posso ajudar?"
    # given the window closed
    close_window(contact)
    page = operator_client.get(thread_url(contact)).content.decode()
    # then the page says why and offers the approved templates only
    assert 'data-window="closed"' in page and "24 hours" in page and 'name="text"' not in page
    assert 'data-template="order_confirmed:pt_BR"' in page and "order_rejected" not in page.replace("order_rejected_", "")
    # and a free reply posted anyway is refused, nothing queued
    refused = operator_client.post(reverse("messaging-reply", args=[contact.pk]), {"kind": "text", "text": "Oi de novo"})
    assert refused.status_code == 422 and "24 hours" in refused.content.decode()
    assert Message.objects.filter(direction="out").count() == 1
    # while a template goes
    sent = operator_client.post(reverse("messaging-reply", args=[contact.pk]), {
        "kind": "template", "template": "order_confirmed:pt_BR", "params": "Ana\n4821\nR$ 58,90\nCantina da Nonna"})
    assert sent.status_code == 302 and Message.objects.filter(direction="out", template_name="order_confirmed").count() == 1


def test_the_cli_keeps_the_window_too_and_lists_messages_as_json(whatsapp, wa_sim, workspace):
    # given a customer who wrote 25 hours ago
    customer_writes(wa_sim, whatsapp, "Oi")
    close_window(Contact.objects.get(phone=f"+{CUSTOMER}"))
    # when / then: a text is refused with the reason, a template is queued
    with pytest.raises(CommandError, match="24 hours"):
        messages_cli("send", str(whatsapp.pk), "--to", CUSTOMER, "--text", "Oi")
    order = make_order(workspace)
    queued = json.loads(messages_cli("send", str(whatsapp.pk), "--to", "+55 11 98765-4321", "--template", "order_confirmed",
                                     "--param", "Ana", "--param", "4821", "--param", "R$ 58,90", "--param", "Cantina",
                                     "--order", order.ref, "--json"))
    assert (queued["status"], queued["template"], queued["order"], queued["phone"]) == (
        "queued", "order_confirmed", order.ref, f"+{CUSTOMER}"
    )
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=queued["id"]).status == "read")
    listed = json.loads(messages_cli("list", "--workspace", workspace.slug, "--order", order.ref, "--json"))
    assert [(m["id"], m["status"], m["direction"]) for m in listed] == [(queued["id"], "read", "out")]
    assert listed[0]["provider_message_id"].startswith("wamid.") and set(listed[0]) >= {
        "id", "integration", "direction", "phone", "type", "text", "template", "status", "provider_message_id", "error_code", "order"}


def test_an_uncertain_send_offers_retry_and_mark_as_sent_in_the_console_and_the_cli(operator_client, whatsapp, wa_sim, settings, workspace):
    # given an uncertain send
    settings.HI_HTTP_DEADLINE_S = 1
    wa_sim.accept_then_timeout = 1
    message = api.queue_outbound(
        whatsapp, CUSTOMER, template=api.TemplateSend("order_ready", "pt_BR", ("Ana", "4821", "x", "y")), actor="test"
    )
    run_directives()
    settings.HI_HTTP_DEADLINE_S = 30
    page = operator_client.get(thread_url(message.contact)).content.decode()
    assert 'data-action="retry"' in page and 'data-action="mark-sent"' in page and "Not confirmed" in page
    # when the CLI marks it as sent
    marked = json.loads(messages_cli("mark-sent", str(message.pk), "--workspace", workspace.slug, "--json"))
    # then
    assert marked["status"] == "sent"
    assert 'data-action="retry"' not in operator_client.get(thread_url(message.contact)).content.decode()
    with pytest.raises(CommandError):
        messages_cli("retry", str(message.pk), "--workspace", workspace.slug)


def test_a_customers_image_is_fetched_on_demand_and_streamed_never_stored(operator_client, whatsapp, wa_sim):
    # given a customer sent a photo with a caption
    customer_writes(wa_sim, whatsapp, "Chegou assim", kind="image")
    message = Message.objects.get(kind="image")
    page = operator_client.get(thread_url(message.contact)).content.decode()
    assert "Chegou assim" in page and f'data-media="{message.pk}"' in page
    # when the operator downloads it
    response = operator_client.get(reverse("messaging-media", args=[message.pk]))
    # then the bytes come from WhatsApp now, as an attachment nobody caches
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body.startswith(b"\x89PNG")
    assert response["Content-Type"] == "image/png" and response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    assert "media" in message.media or message.media["id"]
    # and an expired media id is a clear page, not a 500
    wa_sim.media.clear()
    gone = operator_client.get(reverse("messaging-media", args=[message.pk]))
    assert gone.status_code == 502 and "never stores it" in gone.content.decode()


def test_workspaces_never_see_each_others_contacts_or_messages(client, whatsapp, wa_sim, other_workspace):
    # given a conversation in the integration's workspace, and an operator of another workspace
    customer_writes(wa_sim, whatsapp, "Segredo do pedido")
    message = Message.objects.get()
    stranger = member(other_workspace, "sam", Role.OPERATOR)
    client.force_login(stranger)
    # when / then
    assert "Segredo" not in client.get(INBOX).content.decode()
    for url in (thread_url(message.contact), reverse("messaging-media", args=[message.pk])):
        assert client.get(url).status_code == 404
    for url in (
        reverse("messaging-reply", args=[message.contact.pk]), reverse("messaging-retry", args=[message.pk]),
        reverse("messaging-mark-sent", args=[message.pk])
    ):
        assert client.post(url, {"kind": "text", "text": "x"}).status_code == 404
    assert json.loads(messages_cli("list", "--workspace", other_workspace.slug, "--json")) == []
    assert not Message.objects.filter(workspace=other_workspace).exists()


def test_a_viewer_reads_but_cannot_reply(viewer_client, whatsapp, wa_sim):
    # given
    customer_writes(wa_sim, whatsapp, "Oi")
    contact = Contact.objects.get()
    # when / then
    assert "Viewers can read conversations" in viewer_client.get(thread_url(contact)).content.decode()
    assert viewer_client.post(reverse("messaging-reply", args=[contact.pk]), {"kind": "text", "text": "x"}).status_code == 403
    assert not Message.objects.filter(direction="out").exists()


def test_the_order_page_shows_the_messages_about_the_order(operator_client, whatsapp, wa_sim, workspace):
    # given a notification about an order, and the customer's answer to it
    order = make_order(workspace, customer_phone=f"+{CUSTOMER}")
    sent = api.queue_outbound(
        whatsapp, CUSTOMER, template=api.TemplateSend("order_confirmed", "pt_BR", ("Ana", "4821", "R$ 36,90", "Cantina")), order=order,
        actor="test"
    )
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=sent.pk).status == "read")
    customer_writes(wa_sim, whatsapp, "Obrigado!")
    # when
    page = operator_client.get(order.get_absolute_url()).content.decode()
    # then
    assert 'data-panel="messages"' in page and "Obrigado!" in page and 'data-status="read"' in page
    assert InboundEvent.objects.filter(integration=whatsapp).exists()


def test_adding_in_the_console_shows_the_verify_token_once_and_the_pane_shows_the_number(operator_client, wa_sim):
    # given the add form, with the verify token left blank
    data = {**attributes(wa_sim), "verify_token": "", "name": ""}
    # when the operator tests and adds
    added = operator_client.post(reverse("integration-add-configure", args=["whatsapp"]), data)
    # then the token hi made is shown once, and stored
    integration = Integration.objects.get()
    token = attribute_values(integration)["verify_token"]
    assert token and f'data-revealed="verify_token">{token}<' in added.content.decode() and added["Cache-Control"] == "no-store"
    assert integration.name == "Cantina da Nonna (15550783881)"
    # and the manage page's pane shows the number, its quality, the templates and the receive URL, never a secret
    page = operator_client.get(integration.get_absolute_url()).content.decode()
    assert 'data-quality="GREEN"' in page and 'data-template="order_confirmed"' in page and "/hooks/" in page
    for secret in (token, *attributes(wa_sim).values()):
        if secret in (wa_sim.phone_number_id, wa_sim.business_account_id, wa_sim.url, "v23.0"):
            continue
        assert secret not in page
