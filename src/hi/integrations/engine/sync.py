"""Syncing entities: a provider's listing read item by item and applied, now (sync_now) or by the worker (request_sync)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..config.entities import SyncResult, apply_sync, bounded, checked
from ..config.history import failure_text, log
from ..contract.gateway import Capability, EntityData
from ..core.errors import SyncFailed
from ..core.provider_data import clean_text
from ..factory import get_integration_gateway
from ..models import Directive, Integration, IntegrationState
from ..outbox.directives import enqueue
from .batches import parse_items


def parse_entities(integration: Integration, items: Iterable[Any], parse: Callable[[Any], EntityData]) -> list[EntityData]:
    """A provider's listing as entities, item by item: an item that cannot be read is skipped and logged for the operator."""
    parsed, failures = parse_items(items, lambda raw: bounded(checked(parse(raw))), integration)
    if failures:
        shown = "; ".join(f"item {f.index + 1}: {f.reason}" for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        noun = "item" if len(failures) == 1 else "items"
        log(
            integration, "warning",
            clean_text(f"hi skipped {len(failures)} {noun} of the provider's list that it could not read: {shown}{more}.", 2000)
        )
    return [item for _, item in parsed]


def sync_now(integration: Integration, delete_edited: bool = False) -> SyncResult:
    """Fetch the provider's objects through the gateway and apply them."""
    gateway = get_integration_gateway(integration.integration_type)
    if not gateway.supports(Capability.ENTITY_SYNC):
        raise ValueError(f"{integration.type.label} does not support entity sync.")
    # Every listing is read item by item, whether or not the service used parse_entities itself.
    items = parse_entities(integration, gateway.sync_entities(integration), lambda item: item)
    result = apply_sync(integration, items, delete_edited=delete_edited)
    log(integration, "info", f"Synced: {result.summary()}.")
    return result


def run_sync(integration: Integration) -> SyncResult:
    """Sync Now, from the console or the CLI: only when active; failures logged without secrets."""
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


def request_sync(integration: Integration) -> Directive:
    """Queue a sync for the worker (at most one waiting per integration); return the directive."""
    if integration.state != IntegrationState.ACTIVE:
        raise SyncFailed(f"Only an active integration can sync; {integration.name} is {integration.get_state_display().lower()}.")
    gateway = get_integration_gateway(integration.integration_type)
    if not gateway.supports(Capability.ENTITY_SYNC):
        raise SyncFailed(f"{integration.type.label} does not support entity sync.")
    return enqueue(integration, SYNC_TOPIC, {}, dedupe_key=f"sync:{integration.pk}")


def sync_directive(directive: Directive) -> None:
    """The worker's side of request_sync: fetch and apply (provider errors retry the directive)."""
    sync_now(directive.integration)
