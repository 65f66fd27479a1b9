"""The messaging hub's API for services, the console and the CLI: contacts, received messages, sends, the window, opt-out."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from hi.integrations.api import Integration, clean_json, clean_text, publish
from hi.orders.models import Order

from .channels import MessageRefused, TemplateSend, channel_for, templates_for
from .models import Contact, Direction, Message, MessageStatus
from .phones import InvalidPhone, e164, personal
from .status import (  # noqa: F401 - part of this API
    advance,
    apply_status,
    begin_send,
    find_for_statuses,
    mark_failed,
    mark_sent,
    mark_uncertain,
    message_data,
    send_not_taken,
)

__all__ = [
    "contact_for", "window_open", "window_closes_at", "record_inbound", "queue_outbound", "apply_status", "find_for_statuses", "mark_sent",
    "mark_failed", "mark_uncertain", "begin_send", "send_not_taken", "mark_opted_out", "mark_opted_in", "retry",
    "confirm_sent", "MessageRefused", "TemplateSend",
]

S = MessageStatus
#: WhatsApp's customer-service window: free-form messages only within 24 hours of the customer's last message.
WINDOW = timedelta(hours=24)
MAX_TEXT = 4096
MAX_PROFILE_NAME = 200


def contact_for(workspace, phone: str, *, profile_name: str = "", wa_id: str = "") -> Contact:
    """The workspace's contact with this number (E.164), created on first use; InvalidPhone for a bad number."""
    number = e164(phone)
    contact = Contact.objects.filter(workspace=workspace, phone=number).first()
    if contact is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent creator wins the constraint
                contact = Contact.objects.create(workspace_id=getattr(workspace, "pk", workspace), phone=number, wa_id=wa_id,
                                                 profile_name=clean_text(profile_name, MAX_PROFILE_NAME))
        except IntegrityError:
            contact = Contact.objects.get(workspace=workspace, phone=number)
    return contact


def window_closes_at(contact: Contact, integration: Integration | None = None) -> datetime | None:
    """When the customer-service window closes (None: the customer never wrote); per number when `integration` is given."""
    last = contact.last_inbound_at
    if integration is not None:
        last = (
            contact.messages.filter(direction=Direction.IN, integration=integration).order_by("-created_at")
            .values_list("created_at", flat=True).first()
        )
    return last + WINDOW if last else None


def window_open(contact: Contact, now: datetime | None = None, integration: Integration | None = None) -> bool:
    """Whether a free-form message may be sent now: the customer wrote within the last 24 hours."""
    closes = window_closes_at(contact, integration)
    return closes is not None and (now or timezone.now()) < closes


def _order_answered(contact: Contact, reply_to: str, now: datetime) -> Order | None:
    """The order a received message is about: the one it replies to, else the latest one hi wrote about within the window."""
    if reply_to:
        quoted = contact.messages.filter(provider_message_id=reply_to).exclude(order=None).select_related("order").first()
        if quoted is not None:
            return quoted.order
    recent = (
        contact.messages.filter(direction=Direction.OUT, created_at__gte=now - WINDOW).exclude(order=None)
        .order_by("-created_at").select_related("order").first()
    )
    return recent.order if recent else None


def record_inbound(
    integration: Integration, *, wa_id: str, provider_message_id: str, kind: str, text: str = "", profile_name: str = "",
    media: dict | None = None, raw: Any = None, at: datetime | None = None, reply_to: str = "",
) -> tuple[Message, bool]:
    """Store a customer's message once per provider id (a repeat returns (existing, False)) and publish message.received."""
    existing = Message.objects.filter(integration=integration, provider_message_id=provider_message_id).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    with transaction.atomic():
        contact = contact_for(integration.workspace_id, wa_id, profile_name=profile_name, wa_id=wa_id)
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    workspace_id=integration.workspace_id, integration=integration, contact=contact, direction=Direction.IN,
                    kind=clean_text(kind or "unknown", 32), text=clean_text(text or "", MAX_TEXT), media=clean_json(media or {}),
                    raw=clean_json(raw if isinstance(raw, dict) else {}), status=S.RECEIVED,
                    provider_message_id=clean_text(provider_message_id, 255), received_at=at or now, created_at=now,
                    order=_order_answered(contact, reply_to, now), actor="customer",
                )
        except IntegrityError:
            return Message.objects.get(integration=integration, provider_message_id=provider_message_id), False
        changes: dict[str, Any] = {
            "last_inbound_at": now, "last_message_at": now, "last_integration": integration, "wa_id": clean_text(wa_id, 32),
        }
        if profile_name:
            changes["profile_name"] = clean_text(profile_name, MAX_PROFILE_NAME)
        Contact.objects.filter(pk=contact.pk).update(**changes)
        profile_name = changes.get("profile_name", contact.profile_name)
        data = {**message_data(message), "profile_name": profile_name, "at": message.received_at.isoformat()}
        publish("message.received", data, integration.workspace_id, integration=integration)
    return message, True


def _rendered(integration: Integration, template: TemplateSend) -> str:
    """The template's body with its parameters filled in, when the channel knows the body (for the console)."""
    for option in templates_for(integration):
        if (option.name, option.language) == (template.name, template.language) and option.body:
            return re.sub(r"\{\{\s*(\d+)\s*\}\}", lambda m: _param(template.params, int(m.group(1))), option.body)
    return ""


def _param(params: tuple[str, ...], number: int) -> str:
    """Placeholder {{number}}'s value, or the placeholder itself when missing."""
    return params[number - 1] if 0 < number <= len(params) else f"{{{{{number}}}}}"


def _checked(integration: Integration, contact: Contact, text: str, template: TemplateSend | None, allow_opted_out: bool) -> None:
    """Refuse what must not be sent: no channel, an opted-out customer, nothing to send, free-form text outside the window."""
    if channel_for(integration) is None:
        raise MessageRefused(f"{integration.name} cannot send messages.")
    if contact.opted_out and not allow_opted_out:
        raise MessageRefused(f"{contact.name} opted out of messages; they can write VOLTAR or START to opt back in.")
    if bool(text) == bool(template):
        raise MessageRefused("Send either a text or a template.")
    if text and not window_open(contact, integration=integration):
        raise MessageRefused(
            f"{contact.name} has not written in the last 24 hours, so WhatsApp only allows an approved template now "
            "(the customer-service window opens again when they write)."
        )


def queue_outbound(
    integration: Integration, to: Contact | str, *, text: str = "", template: TemplateSend | None = None,
    order: Order | None = None, notification_key: str = "", actor: str, allow_opted_out: bool = False,
) -> Message:
    """Create an outgoing message and ask its channel to send it, in one transaction; MessageRefused when it may not go."""
    # With a `notification_key`, a message already queued under that key is returned instead (never sent twice).
    if notification_key:
        existing = Message.objects.filter(workspace_id=integration.workspace_id, notification_key=notification_key).first()
        if existing is not None:
            return existing
    try:
        contact = to if isinstance(to, Contact) else contact_for(integration.workspace_id, personal(to))
    except InvalidPhone as exc:
        raise MessageRefused(str(exc)) from None
    text = clean_text((text or "").strip(), MAX_TEXT)
    _checked(integration, contact, text, template, allow_opted_out)
    now = timezone.now()
    fields: dict[str, Any] = {"kind": "text", "text": text}
    if template is not None:
        params = [clean_text(str(p), 1000) for p in template.params]
        fields = {"kind": "template", "template_name": template.name, "template_language": template.language,
                  "template_params": params, "text": _rendered(integration, TemplateSend(template.name, template.language, tuple(params)))}
    try:
        with transaction.atomic():
            message = Message.objects.create(
                workspace_id=integration.workspace_id, integration=integration, contact=contact, direction=Direction.OUT,
                status=S.QUEUED, order=order, notification_key=notification_key, actor=clean_text(actor, 150), created_at=now, **fields,
            )
            Contact.objects.filter(pk=contact.pk).update(last_message_at=now)
            channel_for(integration).send_message(integration, message)
    except IntegrityError:
        mine = Message.objects.filter(workspace_id=integration.workspace_id, notification_key=notification_key)
        found = mine.first() if notification_key else None
        if found is None:
            raise
        return found  # a concurrent notification of the same key won
    return message


def mark_opted_out(contact: Contact, *, actor: str) -> bool:
    """The customer asked for no more messages; True when this changed anything."""
    return bool(Contact.objects.filter(pk=contact.pk, opted_out=False).update(opted_out=True, opted_out_at=timezone.now()))


def mark_opted_in(contact: Contact, *, actor: str) -> bool:
    """The customer asked for messages again; True when this changed anything."""
    return bool(Contact.objects.filter(pk=contact.pk, opted_out=True).update(opted_out=False, opted_out_at=None))


def retry(message: Message, *, actor: str) -> Message:
    """The operator's Retry of an uncertain send: a new message with the same content (the first stays not confirmed)."""
    if not message.awaits_operator:
        raise MessageRefused("Only a message whose send was not confirmed can be sent again.")
    if message.integration is None:
        raise MessageRefused("The integration that sent it was removed.")
    template = None
    if message.kind == "template":
        template = TemplateSend(message.template_name, message.template_language, tuple(message.template_params))
    with transaction.atomic():
        # Locked: two operators clicking Retry at once send it once.
        if not Message.objects.select_for_update().filter(pk=message.pk, replaced_by__isnull=True, status=S.UNCERTAIN).exists():
            raise MessageRefused("Someone already decided about this message.")
        new = queue_outbound(
            message.integration, message.contact, text="" if template else message.text, template=template, order=message.order,
            actor=actor,
        )
        Message.objects.filter(pk=message.pk).update(replaced_by=new, updated_at=timezone.now())
    message.refresh_from_db()
    return new


def confirm_sent(message: Message, *, actor: str) -> bool:
    """The operator's Mark as sent of an uncertain send (they know the customer got it)."""
    if not message.awaits_operator:
        raise MessageRefused("Only a message whose send was not confirmed can be marked as sent.")
    return advance(message, S.SENT, fields={"error_title": "", "error_details": f"Marked as sent by {clean_text(actor, 150)}."})

