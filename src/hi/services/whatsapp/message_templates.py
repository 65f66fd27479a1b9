"""Message templates as entities: read from Meta item by item, offered to operators when approved."""
from __future__ import annotations

import re
from typing import Any

from hi.integrations.api import Entity, EntityData, Integration, ItemInvalid
from hi.messaging.channels import TemplateOption

KIND = "template"
APPROVED = "APPROVED"
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def entity_of(item: Any) -> EntityData:
    """One template of Meta's listing as an entity (id name:language); ItemInvalid when it has no name or language."""
    if not isinstance(item, dict):
        raise ItemInvalid("a template is not an object")
    name, language = item.get("name"), item.get("language")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        raise ItemInvalid("a template without a name or language", event_id=str(item.get("id") or ""))
    components = item.get("components") if isinstance(item.get("components"), list) else []
    body = next((c.get("text") for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY"), "")
    body = body if isinstance(body, str) else ""
    numbers = {int(n) for n in PLACEHOLDER.findall(body)}
    data = {
        "name": name, "language": language, "status": str(item.get("status") or ""), "category": str(item.get("category") or ""),
        "id": str(item.get("id") or ""), "body": body, "params": max(numbers, default=0),
    }
    return EntityData(external_id=f"{name}:{language}", name=f"{name} ({language})", kind=KIND, data=data)


def templates_of(integration: Integration) -> list[Entity]:
    """The integration's synced templates, by name."""
    return list(Entity.objects.filter(integration=integration, kind=KIND).order_by("name"))


def approved(integration: Integration) -> list[TemplateOption]:
    """The approved templates an operator may send."""
    return [
        TemplateOption(
            e.data.get("name", ""), e.data.get("language", ""), e.data.get("category", ""), e.data.get("body", ""),
            int(e.data.get("params") or 0)
        )
        for e in templates_of(integration) if e.data.get("status") == APPROVED
    ]


def placeholder_count(integration: Integration, name: str, language: str) -> int | None:
    """How many parameters a synced template's body takes (None when it was not synced)."""
    for entity in templates_of(integration):
        if (entity.data.get("name"), entity.data.get("language")) == (name, language):
            return int(entity.data.get("params") or 0)
    return None
