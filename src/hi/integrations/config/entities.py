"""Entities: the provider's objects as stored (applied from a sync, upserted from a push, renamed, released on removal)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from django.db import transaction

from ..contract.gateway import EntityData
from ..core.errors import ItemInvalid
from ..core.keys import normalize_external_id
from ..core.provider_data import clean_json, clean_text, is_clean_text
from ..models import Entity, Integration

#: The columns' sizes: a provider's longer name or kind is cut, a longer id refused.
MAX_EXTERNAL_ID, MAX_NAME, MAX_KIND = 255, 255, 64

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    """What a sync changed: external ids created, updated, removed, and kept because edited."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log and the console."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.kept)} kept (edited by an operator)"
        )


def checked(item: EntityData) -> EntityData:
    """The item, if its id can be an entity's (text of 1 to 255 characters, storable as given); else ItemInvalid."""
    external_id = item.external_id
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > MAX_EXTERNAL_ID or not is_clean_text(external_id):
        raise ItemInvalid(f"its id {clean_text(repr(external_id), 60)} is not an id (text of 1 to {MAX_EXTERNAL_ID} characters)")
    return item


def bounded(item: EntityData) -> EntityData:
    """The item as stored: text made safe and cut to the columns, data safe for a JSON column."""
    return replace(
        item, external_id=clean_text(item.external_id, MAX_EXTERNAL_ID), name=clean_text(item.name or "", MAX_NAME),
        kind=clean_text(item.kind or "", MAX_KIND), data=clean_json(item.data or {}),
    )


@transaction.atomic
def apply_sync(integration: Integration, items: list[EntityData], delete_edited: bool = False) -> SyncResult:
    """Make the stored entities match the provider's list; keep operator-edited ones unless told."""
    result = SyncResult()
    seen: set[str] = set()
    current = {e.external_id: e for e in Entity.objects.select_for_update().filter(integration=integration)}
    for item in map(bounded, items):
        external_id = normalize_external_id(item.external_id)
        if external_id in seen:
            continue  # a provider listing an object twice is not two objects
        seen.add(external_id)
        entity = current.get(external_id)
        if entity is None:
            Entity.objects.create(
                workspace_id=integration.workspace_id,
                integration=integration,
                integration_type=integration.integration_type,
                external_id=external_id,
                kind=item.kind,
                name=item.name,
                data=item.data,
            )
            result.created.append(external_id)
            continue
        # An operator's name wins over the provider's; the provider's data is always refreshed.
        new_name = entity.name if entity.operator_edited else item.name
        if (entity.name, entity.kind, entity.data, entity.detached) != (new_name, item.kind, item.data, False):
            entity.name, entity.kind, entity.data, entity.detached = new_name, item.kind, item.data, False
            entity.save(update_fields=["name", "kind", "data", "detached", "updated_at"])
            result.updated.append(external_id)
    for external_id, entity in current.items():
        if external_id in seen:
            continue
        if entity.operator_edited and not delete_edited:
            if not entity.detached:
                entity.detached = True
                entity.save(update_fields=["detached", "updated_at"])
            result.kept.append(external_id)
        else:
            entity.delete()
            result.removed.append(external_id)
    return result


def upsert_entity(integration: Integration, item: EntityData) -> Entity:
    """Apply one pushed change: create or refresh a single entity (an operator's name wins); ItemInvalid for a bad id."""
    item = bounded(checked(item))
    external_id = normalize_external_id(item.external_id)
    entity, created = Entity.objects.get_or_create(
        integration=integration,
        external_id=external_id,
        defaults={
            "workspace_id": integration.workspace_id, "integration_type": integration.integration_type,
            "kind": item.kind, "name": item.name, "data": item.data,
        },
    )
    if not created:
        entity.name = entity.name if entity.operator_edited else item.name
        entity.kind, entity.data, entity.detached = item.kind, item.data, False
        entity.save(update_fields=["name", "kind", "data", "detached", "updated_at"])
    return entity


@transaction.atomic
def release_entities(integration: Integration, delete: bool) -> tuple[int, int]:
    """On removal: delete every entity, or keep edited ones detached; return (deleted, kept)."""
    entities = Entity.objects.filter(integration=integration)
    if delete:
        deleted, _ = entities.delete()
        return deleted, 0
    kept = entities.filter(operator_edited=True).update(integration=None, detached=True)
    deleted, _ = entities.filter(operator_edited=False).delete()
    return deleted, kept


def rename_entity(entity: Entity, name: str) -> Entity:
    """An operator's edit: rename the entity and mark it edited so syncs keep it."""
    entity.name = name.strip()[:255]
    entity.operator_edited = True
    entity.save(update_fields=["name", "operator_edited", "updated_at"])
    return entity
