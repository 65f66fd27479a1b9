"""The WhatsApp service's directive and event hook: one send never repeated blindly, paced per customer; order notifications."""
# Meta's Cloud API has no idempotency key, so a message is never sent twice without the operator:
# - before the POST, the hub notes that a send began (begin_send); a directive that finds it begun and unfinished
#   (its worker died mid-send) makes the message uncertain instead of sending again;
# - a POST whose answer is lost after the request went out (ProviderError.request_sent) makes it uncertain;
# - the HTTP client never retries the POST inside the call (it is not idempotent).
# Answers that prove Meta did not take it (a rate limit, a server error, an open breaker) let the directive
# retry; a 190 moves the integration to auth_failed and the message waits; any other refusal fails it with
# Meta's code and words. https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from hi.integrations.api import (
    BreakerOpen,
    Directive,
    DirectiveFailed,
    DirectiveHandler,
    Event,
    EventHook,
    Integration,
    IntegrationState,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    attribute_values,
    enqueue,
)
from hi.messaging import api
from hi.messaging.channels import MessageRefused, TemplateSend
from hi.messaging.models import Message, MessageStatus
from hi.messaging.phones import InvalidPhone, digits, personal
from hi.orders.models import Order

from .client import PAIR_RATE_S, client_for
from .message_templates import placeholder_count
from .models import Pace, phone_of
from .notifications import order_parameters, parse_notifications
from .processing import CONFIRMATION_ACTOR

logger = logging.getLogger(__name__)

#: Meta's meanings of the codes an operator meets most (its titles are terse; public error maps are wrong).
MEANINGS: dict[str, str] = {
    "131047": "More than 24 hours since the customer last wrote: only a template can be sent",
    "131026": "Undeliverable: the number is not on WhatsApp, or its app is too old",
    "131048": "Spam rate limit: too many of this number's messages were blocked or reported",
    "131049": "Meta chose not to deliver it (the customer's marketing message limit)",
    "132000": "The template's parameters do not match its placeholders",
    "132001": "The template does not exist in this language (or is not approved)",
    "131056": "Too many messages to this customer in a short time",
    "130429": "The phone number's throughput limit was reached",
}
UNCERTAIN = (
    "The request reached WhatsApp but its answer was lost ({error}). WhatsApp may have accepted it, and the Cloud API "
    "has no way to send it safely twice."
)
INTERRUPTED = "A worker stopped while sending it, so WhatsApp may have accepted it."


def body_for(message: Message) -> dict[str, Any]:
    """The messages endpoint's body: a text, or a template with its body parameters."""
    to = digits(message.contact.phone)
    if message.kind == "template":
        template: dict[str, Any] = {
            "name": message.template_name, "language": {"policy": "deterministic", "code": message.template_language or "pt_BR"}
        }
        if message.template_params:
            template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in message.template_params]}]
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template", "template": template}
    return {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
        "text": {"preview_url": False, "body": message.text}
    }


def _provider_id(answer: dict[str, Any]) -> str:
    """The wamid Meta gave the message (its answer's messages[0].id)."""
    listed = answer.get("messages")
    first = listed[0] if isinstance(listed, list) and listed and isinstance(listed[0], dict) else {}
    return first.get("id") if isinstance(first.get("id"), str) else ""


def send_message(directive: Directive) -> None:
    """The whatsapp.send directive: send the hub's message once, and record its fate."""
    message = Message.objects.select_related("contact", "integration").filter(pk=directive.payload.get("message")).first()
    if message is None or message.status != MessageStatus.QUEUED:
        return  # sent, failed or uncertain already (a re-run after a crash, an operator's Retry now): never again
    if message.contact.opted_out and message.actor != CONFIRMATION_ACTOR:
        api.mark_failed(message, title="Not sent", details="The customer opted out before it left.")
        return
    if not api.begin_send(message):
        api.mark_uncertain(message, INTERRUPTED)
        raise DirectiveFailed(f"Not sent again: {INTERRUPTED}")
    integration = directive.integration
    try:
        answer = client_for(integration).send(body_for(message))
    except ProviderError as exc:
        _after_error(directive, message, exc)
        raise
    wamid = _provider_id(answer)
    if not wamid:
        api.mark_uncertain(message, "WhatsApp answered without a message id.")
        raise DirectiveFailed("WhatsApp accepted the message without naming it; not sent again.")
    api.mark_sent(message, wamid)


def _after_error(directive: Directive, message: Message, exc: ProviderError) -> None:
    """Record what a failed send means for the message; the directive then classifies the error as usual."""
    if exc.request_sent:
        api.mark_uncertain(message, UNCERTAIN.format(error=type(exc).__name__))
        raise DirectiveFailed(f"Not confirmed, not sent again: {exc}") from None
    if isinstance(exc, (ProviderAuthError, BreakerOpen)):
        api.send_not_taken(message)  # waits for re-authentication or the breaker; tried again then
        return
    if isinstance(exc, (ProviderRateLimited, ProviderUnavailable)):
        api.send_not_taken(message)
        if directive.attempts >= directive.max_attempts:
            api.mark_failed(message, code=exc.code, title=MEANINGS.get(exc.code, "WhatsApp kept refusing it"),
                            details=f"Gave up after {directive.attempts} attempts: {exc.said or exc}")
        return
    api.mark_failed(message, code=exc.code, title=MEANINGS.get(exc.code, "WhatsApp refused it"), details=exc.said or str(exc))


TOPIC_SEND = "whatsapp.send"
#: Retries: the first waits the pair rate (6 s), then longer; a rate limit's own wait wins when longer.
SEND_SCHEDULE = (6, 30, 120, 600, 1800, 3600, 7200, 21600)
SEND_HANDLER = DirectiveHandler(TOPIC_SEND, send_message, schedule=SEND_SCHEDULE)


def queue_send(integration: Integration, message: Message) -> None:
    """Queue the send, at least PAIR_RATE_S after the previous one to the same customer (in the caller's transaction)."""
    now = timezone.now()
    wa_id = digits(message.contact.phone)
    with transaction.atomic():
        pace, _ = Pace.objects.select_for_update().get_or_create(integration=integration, wa_id=wa_id, defaults={"next_send_at": now})
        run_at = max(now, pace.next_send_at)
        Pace.objects.filter(pk=pace.pk).update(next_send_at=run_at + timedelta(seconds=PAIR_RATE_S))
        enqueue(integration, TOPIC_SEND, {"message": message.pk}, run_at=run_at, dedupe_key=f"message:{message.pk}")


def _store_name(integration: Integration) -> str:
    """The business's name for templates: the number's verified name, else the integration's name."""
    return phone_of(integration).verified_name or integration.name


def notify_order(event: Event, integration: Integration) -> None:
    """An order event whose status the operator mapped to a template: send it to the order's customer, once."""
    if event.type not in ("order.created", "order.status_changed") or integration.state != IntegrationState.ACTIVE:
        return
    status = event.data.get("status") if event.type == "order.created" else event.data.get("new_status")
    try:
        target = parse_notifications(attribute_values(integration).get("notifications") or "").get(str(status))
    except ValueError:
        return  # validated on save; an older value that no longer parses sends nothing
    if target is None:
        return
    order = Order.objects.filter(workspace_id=integration.workspace_id, ref=event.data.get("ref")).first()
    if order is None or not order.customer_phone:
        return
    try:
        contact = api.contact_for(integration.workspace_id, personal(order.customer_phone))
    except InvalidPhone:
        # A marketplace's masked number (iFood's 0800 and localizer) or no number at all: nobody to write to.
        logger.info("Order %s: no notification, its customer phone is not a number hi can send to.", order.ref)
        return
    if contact.opted_out:
        return
    params = order_parameters(order, _store_name(integration))
    count = placeholder_count(integration, target.template, target.language)
    template = TemplateSend(target.template, target.language, tuple(params[:count] if count is not None else params))
    try:
        api.queue_outbound(
            integration, contact, template=template, order=order, actor="notifications",
            notification_key=f"order:{order.ref}:{status}",
        )
    except MessageRefused as exc:
        logger.info("Order %s: notification %s not sent: %s", order.ref, target.template, exc)


NOTIFY_HOOK = EventHook("order.*", notify_order)
