"""Meta's notifications item by item: each message and each status is one item, stored, deduplicated and applied."""
# One POST can batch several entries, changes, messages and statuses (Meta's webhooks reference). items_of()
# flattens it; the framework's store_batch keeps each item as its own inbound row, deduplicated by the item's
# id: a message by its wamid, a status by (wamid, status), since Meta sends duplicates. Unknown kinds and
# fields are kept raw and applied as nothing. Statuses arrive in any order; the hub keeps the furthest.
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from hi.integrations.api import BatchItem, Integration, ItemInvalid, attribute_values, store_batch
from hi.messaging import api
from hi.messaging.channels import MessageRefused
from hi.messaging.models import Message

logger = logging.getLogger(__name__)
#: Statuses the hub knows; others (Meta adds some) are kept raw and change nothing.
STATUSES = ("sent", "delivered", "read", "failed")
#: Who queues an opt-out's confirmation: the one message an opted-out customer still gets.
CONFIRMATION_ACTOR = "opt-out"
OPT_OUT_WORDS = frozenset({"PARAR", "STOP"})
OPT_IN_WORDS = frozenset({"VOLTAR", "START"})
OPTED_OUT_TEXT = "Pronto: você não receberá mais mensagens nossas por aqui. Para voltar a receber, envie VOLTAR."
OPTED_IN_TEXT = "Pronto: você voltará a receber nossas mensagens. Para parar, envie PARAR."


def items_of(payload: Any) -> list[dict[str, Any]]:
    """Every message, status and other change of a notification, each with the number it was for."""
    items: list[dict[str, Any]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else [{"unreadable": entry}]:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(change, dict) or change.get("field") != "messages" or not isinstance(value, dict):
                items.append({"kind": "other", "change": change})
                continue
            number = (value.get("metadata") or {}).get("phone_number_id") if isinstance(value.get("metadata"), dict) else None
            contacts = value.get("contacts") if isinstance(value.get("contacts"), list) else []
            for message in value.get("messages") if isinstance(value.get("messages"), list) else []:
                sender = message.get("from") if isinstance(message, dict) else None
                profile = next((c for c in contacts if isinstance(c, dict) and c.get("wa_id") == sender), {})
                items.append({"kind": "message", "phone_number_id": number, "contact": profile, "message": message})
            for status in value.get("statuses") if isinstance(value.get("statuses"), list) else []:
                items.append({"kind": "status", "phone_number_id": number, "status": status})
            if value.get("errors"):
                items.append({"kind": "error", "phone_number_id": number, "errors": value.get("errors")})
    return items


def _digest(item: Any) -> str:
    """A stable id for an item that has none of its own."""
    return hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:40]


def identify(item: Any) -> BatchItem:
    """An item's dedupe id and kind: a message's wamid, a status's wamid:status; ItemInvalid when one is missing."""
    kind = item.get("kind") if isinstance(item, dict) else None
    if kind == "message":
        message = item.get("message")
        wamid = message.get("id") if isinstance(message, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise ItemInvalid("a message without an id", event_type="message")
        return BatchItem(wamid, "message")
    if kind == "status":
        status = item.get("status")
        wamid = status.get("id") if isinstance(status, dict) else None
        word = status.get("status") if isinstance(status, dict) else None
        if not isinstance(wamid, str) or not wamid or not isinstance(word, str) or not word:
            raise ItemInvalid("a status without a message id or a status", event_type="status")
        return BatchItem(f"{wamid}:{word}"[:255], "status")
    return BatchItem(f"{kind or 'other'}:{_digest(item)}", str(kind or "other"))


def when(timestamp: Any) -> datetime | None:
    """Meta's timestamp (a string of Unix seconds) as an aware UTC time, None when it is not one."""
    try:
        return datetime.fromtimestamp(int(str(timestamp)), tz=dt_timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _ours(integration: Integration, item: dict[str, Any]) -> bool:
    """Whether the item is for this integration's number (an app's callback gets every number's notifications)."""
    number = item.get("phone_number_id")
    return number is None or str(number) == str(attribute_values(integration).get("phone_number_id"))


def content_of(message: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(kind, text, media) of a received message, whatever its type; unknown types give their name and no text."""
    kind = str(message.get("type") or "unknown")[:32]
    part = message.get(kind) if isinstance(message.get(kind), dict) else {}
    text = ""
    media: dict[str, Any] = {}
    if kind == "text":
        text = str(part.get("body") or "")
    elif kind in ("image", "audio", "video", "document", "sticker"):
        text = str(part.get("caption") or "")
        media = {k: part[k] for k in ("id", "mime_type", "sha256", "filename") if isinstance(part.get(k), (str, int))}
    elif kind == "location":
        text = " · ".join(str(part[k]) for k in ("name", "address") if part.get(k))
    elif kind == "contacts":
        cards = message.get("contacts") if isinstance(message.get("contacts"), list) else []
        text = ", ".join(str((c.get("name") or {}).get("formatted_name", "")) for c in cards if isinstance(c, dict))
    elif kind == "interactive":
        reply = part.get(part.get("type")) if isinstance(part.get(part.get("type")), dict) else {}
        text = str(reply.get("title") or "")
    elif kind == "button":
        text = str(part.get("text") or "")
    elif kind == "reaction":
        text = f"Reacted {part.get('emoji') or ''}".strip()
    return kind, text, media


def apply_message(integration: Integration, item: dict[str, Any]) -> None:
    """Store a customer's message in the hub; PARAR/STOP opts them out (told once), VOLTAR/START back in."""
    if not _ours(integration, item):
        return
    message = item["message"]
    kind, text, media = content_of(message)
    profile = item.get("contact") if isinstance(item.get("contact"), dict) else {}
    name = (profile.get("profile") or {}).get("name", "") if isinstance(profile.get("profile"), dict) else ""
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    stored, created = api.record_inbound(
        integration, wa_id=str(message.get("from") or ""), provider_message_id=message["id"], kind=kind, text=text,
        profile_name=str(name or ""), media=media, raw=message, at=when(message.get("timestamp")), reply_to=str(context.get("id") or ""),
    )
    if created and kind == "text":
        _opt_words(integration, stored, text.strip().upper())


def _opt_words(integration: Integration, message: Message, word: str) -> None:
    """The customer's PARAR/STOP or VOLTAR/START, with one confirmation when it changed something."""
    contact = message.contact
    if word in OPT_OUT_WORDS and api.mark_opted_out(contact, actor="customer"):
        _confirm(integration, message, OPTED_OUT_TEXT, "optout")
    elif word in OPT_IN_WORDS and api.mark_opted_in(contact, actor="customer"):
        _confirm(integration, message, OPTED_IN_TEXT, "optin")


def _confirm(integration: Integration, message: Message, text: str, what: str) -> None:
    """One confirmation of an opt-out or opt-in (the customer just wrote, so the window is open)."""
    contact = type(message.contact).objects.get(pk=message.contact_id)
    try:
        api.queue_outbound(integration, contact, text=text, actor=CONFIRMATION_ACTOR, allow_opted_out=True,
                           notification_key=f"{what}:{message.pk}")
    except MessageRefused as exc:
        logger.info("No %s confirmation for %s: %s", what, contact.pk, exc)


def apply_status(integration: Integration, item: dict[str, Any], known: dict[str, Message] | None = None) -> None:
    """Move the message a status names forward (late, repeated or unknown statuses change nothing)."""
    if not _ours(integration, item):
        return
    status = item["status"]
    word = status.get("status")
    if word not in STATUSES:
        return
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    details = (error.get("error_data") or {}).get("details", "") if isinstance(error.get("error_data"), dict) else ""
    api.apply_status(
        integration, status["id"], word, at=when(status.get("timestamp")),
        code=error.get("code", ""), title=str(error.get("title") or error.get("message") or ""),
        details=str(details or error.get("message") or ""),
        known=known,
    )


def apply_item(integration: Integration, kind: str, item: Any, known: dict[str, Message] | None = None) -> None:
    """Apply one stored item by its kind (statuses find their message in `known` first); others are only logged."""
    if kind == "message":
        apply_message(integration, item)
    elif kind == "status":
        apply_status(integration, item, known)
    elif kind == "error":
        logger.warning("WhatsApp reported errors for integration %s: %s", integration.pk, str(item.get("errors"))[:500])


def store_and_apply(integration: Integration, items: list[dict[str, Any]]) -> None:
    """Store the items of one or more notifications (each once) and apply the new ones, their messages read in one query."""
    # Three statuses a message, one notification each: reading the messages one by one was a query per status.
    wamids = [item["status"].get("id") for item in items if item.get("kind") == "status" and isinstance(item.get("status"), dict)]
    known = api.find_for_statuses(integration, [w for w in wamids if isinstance(w, str)])
    store_batch(integration, items, identify, source="notification", apply=lambda kind, item: apply_item(integration, kind, item, known))
