"""A sent message's fate: status changes that only move forward, each published after commit."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hi.integrations.api import Integration, clean_text
from hi.integrations.api import publish as publish_event  # `publish` is advance()'s switch

from .models import RANK, STATUS_TIMESTAMPS, Message, MessageStatus

S = MessageStatus
MAX_TITLE = 255
MAX_DETAILS = 2000


def message_data(message: Message) -> dict[str, Any]:
    """What the hub's events say about a message."""
    return {
        "id": message.pk,
        "integration": str(message.integration_id) if message.integration_id else None,
        "direction": message.direction,
        "phone": message.contact.phone,
        "type": message.kind,
        "text": message.text,
        "template": message.template_name,
        "provider_message_id": message.provider_message_id,
        "order": _order_ref(message),
    }


def _order_ref(message: Message) -> str | None:
    """The ref of the order the message is about (annotated by hot paths, else read)."""
    if not message.order_id:
        return None
    return getattr(message, "order_ref", None) or message.order.ref


def _lower_than(status: str) -> list[str]:
    """The statuses a message may leave for `status`."""
    return [s for s, rank in RANK.items() if rank < RANK[status]]


def advance(
    message: Message, status: str, *, at: datetime | None = None, fields: dict[str, Any] | None = None, publish: bool = True
) -> bool:
    """Move an outgoing message forward to `status` (compare-and-set: late, repeated or backward moves change nothing); whether it moved."""
    # The status_changed event (and message.failed) is published after commit. One UPDATE in the common case:
    # status notifications arrive three per message, so this is the hot path.
    if status not in RANK:
        raise ValueError(f"{status!r} is not a status of an outgoing message.")
    when = at or timezone.now()
    update: dict[str, Any] = {"status": status, "updated_at": timezone.now(), **(fields or {})}
    if status in STATUS_TIMESTAMPS:
        update[STATUS_TIMESTAMPS[status]] = when
    if status == S.READ:
        # `read` implies `delivered`, and the delivered notification may never come.
        update["delivered_at"] = Coalesce(F("delivered_at"), Value(when))
    lower = _lower_than(status)
    with transaction.atomic():
        for _ in range(3):
            old = message.status
            if old not in lower:
                return False
            # Compare-and-set on the status it had: a concurrent change makes this match nothing, and we look again.
            if Message.objects.filter(pk=message.pk, status=old).update(**update):
                break
            message.refresh_from_db(fields=["status"])
        else:
            return False
        for name, value in update.items():
            setattr(message, name, value if name != "delivered_at" or status != S.READ else (message.delivered_at or when))
        if publish:
            data = {**message_data(message), "old_status": old, "new_status": status, "at": when.isoformat()}
            publish_event("message.status_changed", data, message.workspace_id, integration=message.integration)
            if status == S.FAILED:
                failed = {**data, "error_code": message.error_code, "error_title": message.error_title,
                          "error_details": message.error_details}
                publish_event("message.failed", failed, message.workspace_id, integration=message.integration)
    return True


def error_fields(code: Any = "", title: str = "", details: str = "") -> dict[str, str]:
    """A provider's error as the message keeps it: code, title and details made safe and cut to their columns."""
    return {
        "error_code": clean_text(str(code or ""), 32),
        "error_title": clean_text(title or "", MAX_TITLE),
        "error_details": clean_text(details or "", MAX_DETAILS),
    }


def _by_provider_id(integration: Integration, provider_message_ids: list[str]) -> QuerySet[Message]:
    """The integration's messages with these provider ids, with what status events need."""
    # The contact's number and the order's ref are all the events need: not the whole order row.
    return (
        Message.objects.filter(integration=integration, provider_message_id__in=provider_message_ids)
        .select_related("contact").annotate(order_ref=F("order__ref"))
    )


def find_for_statuses(integration: Integration, provider_message_ids: list[str]) -> dict[str, Message]:
    """The messages a batch of status notifications names, by provider id, in one query (pass it to apply_status)."""
    found = {}
    for message in _by_provider_id(integration, list(dict.fromkeys(i for i in provider_message_ids if i))):
        message.integration = integration  # the events name it: no query for what the caller has
        found[message.provider_message_id] = message
    return found


def apply_status(
    integration: Integration, provider_message_id: str, status: str, *, at: datetime | None = None,
    code: Any = "", title: str = "", details: str = "", known: dict[str, Message] | None = None,
) -> Message | None:
    """A provider's status notification: move the message it names forward; None when hi does not know the message."""
    message = (known or {}).get(provider_message_id)
    if message is None:
        # Not looked up with the batch (or sent since): read it now, as a lone status would.
        found = list(_by_provider_id(integration, [provider_message_id])[:1])
        if not found:
            return None
        message = found[0]
        message.integration = integration
    fields = error_fields(code, title, details) if status == S.FAILED else None
    try:
        advance(message, status, at=at, fields=fields)
    except Exception:
        # The caller's savepoint undoes the move, but the object kept it: the batch's next status reads afresh.
        if known is not None:
            known.pop(provider_message_id, None)
        raise
    return message


def mark_sent(message: Message, provider_message_id: str, at: datetime | None = None) -> bool:
    """The provider accepted the message and named it: record its id, and `sent`."""
    return advance(message, S.SENT, at=at, fields={"provider_message_id": clean_text(provider_message_id, 255), "send_started_at": None})


def mark_failed(message: Message, *, code: Any = "", title: str = "", details: str = "") -> bool:
    """The provider refused the message for good (or hi gave up): `failed` with the reason shown."""
    return advance(message, S.FAILED, fields={**error_fields(code, title, details), "send_started_at": None})


def mark_uncertain(message: Message, reason: str) -> bool:
    """The send's answer was lost after the request went out: the operator decides (Retry or Mark as sent)."""
    return advance(message, S.UNCERTAIN, fields={**error_fields("", "Not confirmed", reason)})


def begin_send(message: Message) -> bool:
    """Before calling the provider: note that a send began; False when an earlier send began and never finished."""
    # Then a worker died mid-send: the provider may have the message, so it must not go again without the operator.
    return bool(
        Message.objects.filter(pk=message.pk, status=S.QUEUED, send_started_at__isnull=True).update(send_started_at=timezone.now())
    )


def send_not_taken(message: Message) -> None:
    """The provider answered that it did not take the message (an outage, a rate limit): it may be sent again."""
    Message.objects.filter(pk=message.pk, status=S.QUEUED).update(send_started_at=None)
