"""The events the messaging hub publishes, with example data, for the event catalog."""
from __future__ import annotations

from hi.integrations.api import register_event_type

MESSAGE_EXAMPLE = {
    "id": 4812,
    "integration": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    "direction": "out",
    "phone": "+5511987654321",
    "type": "template",
    "text": "Olá Ana, seu pedido 4821 foi confirmado. Total: R$ 58,90. Cantina da Nonna",
    "template": "order_confirmed",
    "provider_message_id": "wamid.HBgLNTUxMTk4NzY1NDMyMRUCABEYEjdBRTQ5QjE1",
    "order": "ORD-20261203-7KQ2M9XD",
}


def register_events() -> None:
    """Add message.received, message.status_changed and message.failed to the catalog."""
    register_event_type(
        "message.received",
        "A customer's message arrived (text, media, location, a button reply…); `order` is the order it concerns, when "
        "it answers a message about one.",
        {**MESSAGE_EXAMPLE, "direction": "in", "type": "text", "text": "Obrigado!", "template": "", "profile_name": "Ana Souza",
         "provider_message_id": "wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFDNBMjQ5", "at": "2026-12-03T12:06:10+00:00"},
    )
    register_event_type(
        "message.status_changed",
        "A message hi sent moved forward: queued, sent, delivered, read, failed (or not confirmed, when its send timed out).",
        {**MESSAGE_EXAMPLE, "old_status": "sent", "new_status": "delivered", "at": "2026-12-03T12:04:35+00:00"},
    )
    register_event_type(
        "message.failed",
        "A message hi sent failed; `error_code`, `error_title` and `error_details` are the provider's.",
        {**MESSAGE_EXAMPLE, "old_status": "sent", "new_status": "failed", "at": "2026-12-03T12:04:35+00:00", "error_code": "131047",
         "error_title": "Re-engagement message",
         "error_details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
    )
