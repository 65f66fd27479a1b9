"""The demo provider's directive handler and event hook (notes, sent at least once, stored once), and items as entities."""
from __future__ import annotations

import json
from typing import Any

from hi.integrations.api import (
    Directive,
    DirectiveHandler,
    EntityData,
    Event,
    EventHook,
    Integration,
    ItemInvalid,
    attribute_values,
    enqueue,
)

from .client import client_for

TOPIC_NOTE = "demo.send_note"


def item_entity(item: Any) -> EntityData:
    """One item of the provider's list or stream as an entity; ItemInvalid when it is not one."""
    if not isinstance(item, dict):
        raise ItemInvalid("not a JSON object")
    if item.get("id") in (None, ""):
        raise ItemInvalid("no id")
    name, kind = item.get("name"), item.get("kind")
    return EntityData(
        external_id=item["id"], name=name if isinstance(name, str) else "", kind=kind if isinstance(kind, str) else "",
        data={"status": item.get("status")},
    )


def send_note(directive: Directive) -> None:
    """POST the note; the directive id is the idempotency key, so a retry never stores it twice."""
    client = client_for(directive.integration)
    client.add_note(directive.payload["text"], idempotency_key=f"hi-directive-{directive.pk}")


def forward_event(event: Event, integration: Integration) -> None:
    """When the integration forwards events, turn this one into a note directive."""
    if not attribute_values(integration).get("forward_events"):
        return
    text = f"{event.type}: {json.dumps(event.data, sort_keys=True)}"
    enqueue(integration, TOPIC_NOTE, {"text": text, "event": str(event.pk)}, dedupe_key=f"event:{event.pk}:{integration.pk}")


def request_note(integration: Integration, text: str) -> Directive:
    """An operator's 'send a note' action, as a directive."""
    return enqueue(integration, TOPIC_NOTE, {"text": text})


NOTE_HANDLER = DirectiveHandler(TOPIC_NOTE, send_note)
FORWARD_HOOK = EventHook("*", forward_event)

