"""Entities and their IntegrationKey: syncing the provider's objects and releasing them on removal."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from django.db import transaction

from ..core.errors import SyncFailed
from ..factory import get_integration_gateway
from ..contract.gateway import Capability, EntityData
from ..models import Entity, Integration
from ..core.provider_data import clean_json, clean_text, is_clean_text

#: The columns' sizes: a provider's longer name or kind is cut, a longer id refused.
MAX_EXTERNAL_ID, MAX_NAME, MAX_KIND = 255, 255, 64

logger = logging.getLogger(__name__)


def normalize_external_id(external_id: str) -> str:
    """The canonical form of a provider's id: surrounding space removed, case folded."""
    return str(external_id).strip().casefold()


@dataclass(frozen=True)
class IntegrationKey:
    """An external object's identity: the integration and its normalised external id."""

    integration_id: str
    external_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "integration_id", str(self.integration_id))
        object.__setattr__(self, "external_id", normalize_external_id(self.external_id))

    def __str__(self) -> str:
        return f"{self.integration_id}.{self.external_id}"

    @classmethod
    def parse(cls, text: str) -> "IntegrationKey":
        """Read back the form produced by str()."""
        integration_id, _, external_id = text.partition(".")
        if not external_id:
            raise ValueError(f"Not an integration key: {text!r}")
        return cls(integration_id, external_id)


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


def parse_entities(integration: Integration, items: Iterable[Any], parse: Callable[[Any], EntityData]) -> list[EntityData]:
    """A provider's listing as entities, item by item: an item that cannot be read is skipped and logged for the operator."""
    from ..engine.batches import parse_items
    from .lifecycle import log

    parsed, failures = parse_items(items, lambda raw: bounded(checked(parse(raw))), integration)
    if failures:
        shown = "; ".join(f"item {f.index + 1}: {f.reason}" for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        noun = "item" if len(failures) == 1 else "items"
        log(integration, "warning", clean_text(f"hi skipped {len(failures)} {noun} of the provider's list that it could not read: {shown}{more}.", 2000))
    return [item for _, item in parsed]


def checked(item: EntityData) -> EntityData:
    """The item, if its id can be an entity's (text of 1 to 255 characters, storable as given); else ItemInvalid."""
    from ..core.errors import ItemInvalid

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


def sync_now(integration: Integration, delete_edited: bool = False) -> SyncResult:
    """Fetch the provider's objects through the gateway and apply them."""
    gateway = get_integration_gateway(integration.integration_type)
    if not gateway.supports(Capability.ENTITY_SYNC):
        raise ValueError(f"{integration.type.label} does not support entity sync.")
    # Every listing is read item by item, whether or not the service used parse_entities itself.
    items = parse_entities(integration, gateway.sync_entities(integration), lambda item: item)
    result = apply_sync(integration, items, delete_edited=delete_edited)
    from .lifecycle import log

    log(integration, "info", f"Synced: {result.summary()}.")
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


def run_sync(integration: Integration) -> SyncResult:
    """Sync Now, from the console or the CLI: only when active; failures logged without secrets."""
    from .lifecycle import failure_text, log
    from ..models import IntegrationState

    if integration.state != IntegrationState.ACTIVE:
        raise SyncFailed(f"Only an active integration can sync; {integration.name} is {integration.get_state_display().lower()}.")
    try:
        return sync_now(integration)
    except Exception as exc:  # noqa: BLE001 - shown to the operator in one line
        text = failure_text(integration, exc)
        log(integration, "error", f"Sync failed: {text}")
        raise SyncFailed(f"Sync failed: {text}") from None


#: The framework's own directive topic: an operator's "Sync now", run by the worker.
SYNC_TOPIC = "hi.sync_entities"


def request_sync(integration: Integration):
    """Queue a sync for the worker (at most one waiting per integration); return the directive."""
    from ..outbox.directives import enqueue
    from ..models import IntegrationState

    if integration.state != IntegrationState.ACTIVE:
        raise SyncFailed(f"Only an active integration can sync; {integration.name} is {integration.get_state_display().lower()}.")
    gateway = get_integration_gateway(integration.integration_type)
    if not gateway.supports(Capability.ENTITY_SYNC):
        raise SyncFailed(f"{integration.type.label} does not support entity sync.")
    return enqueue(integration, SYNC_TOPIC, {}, dedupe_key=f"sync:{integration.pk}")


def sync_directive(directive) -> None:
    """The worker's side of request_sync: fetch and apply (provider errors retry the directive)."""
    sync_now(directive.integration)


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
