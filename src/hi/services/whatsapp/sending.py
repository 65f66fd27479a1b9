"""Sending one message: the body Meta expects, and what each answer means for the message and its directive."""
# Meta's Cloud API has no idempotency key, so a message is never sent twice without the operator:
# - before the POST, the hub notes that a send began (begin_send); a directive that finds it begun and unfinished
#   (its worker died mid-send) makes the message uncertain instead of sending again;
# - a POST whose answer is lost after the request went out (ProviderError.request_sent) makes it uncertain;
# - the HTTP client never retries the POST inside the call (it is not idempotent).
# Answers that prove Meta did not take it (a rate limit, a server error, an open breaker) let the directive
# retry; a 190 moves the integration to auth_failed and the message waits; any other refusal fails it with
# Meta's code and words. https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
from __future__ import annotations

from typing import Any

from hi.integrations.api import (
    BreakerOpen,
    Directive,
    DirectiveFailed,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from hi.messaging import api
from hi.messaging.models import Message, MessageStatus
from hi.messaging.phones import digits

from .client import client_for
from .processing import CONFIRMATION_ACTOR

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
        template: dict[str, Any] = {"name": message.template_name, "language": {"policy": "deterministic", "code": message.template_language or "pt_BR"}}
        if message.template_params:
            template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in message.template_params]}]
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template", "template": template}
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": {"preview_url": False, "body": message.text}}


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
