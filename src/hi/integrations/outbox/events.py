"""Domain events: stored with the change that causes them, dispatched to hooks after the commit."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any, Iterator

from django.db import transaction
from django.utils import timezone

from ..contract.declarations import EventHook
from ..contract.gateway import Capability
from ..factory import get_integration_gateway
from ..models import Event, Integration

logger = logging.getLogger(__name__)

#: What each event type means (the catalog page and docs/events.md show these).
EVENT_DESCRIPTIONS: dict[str, str] = {
    "integration.state_changed": "An integration moved from one state to another (activation, pause, failure, …).",
}

#: Every event type hi emits, with an example of its data (the catalog shown to operators).
EVENT_TYPES: dict[str, dict[str, Any]] = {
    "integration.state_changed": {
        "integration": "0b6f3f0e-3c1e-4d7b-9f51-8a1d2f3c4b5a",
        "type": "demo",
        "name": "Demo Store",
        "from": "activating",
        "to": "active",
        "reason": "",
    },
}


def register_event_type(event_type: str, description: str, example: dict[str, Any]) -> None:
    """Add a service's event type to the catalog (called from its AppConfig.ready)."""
    EVENT_DESCRIPTIONS[event_type] = description
    EVENT_TYPES[event_type] = example


#: Events dispatched in one transaction at most: a longer one would hold SQLite's write lock too long.
DISPATCH_CHUNK = 200


def publish(event_type: str, data: dict[str, Any], workspace, integration: Integration | None = None) -> Event:
    """Record an event in the caller's transaction and dispatch it once that transaction commits."""
    event = Event.objects.create(
        workspace_id=workspace.pk if hasattr(workspace, "pk") else workspace,
        integration=integration,
        type=event_type,
        data=data,
    )
    batch = getattr(transaction.get_connection(), "hi_event_batch", None)
    if batch is not None:
        batch.append(event.pk)  # dispatched with the others when the batch's transaction commits
    else:
        # A rolled-back transaction takes the event row with it, and this callback never runs.
        transaction.on_commit(lambda: dispatch(event.pk))
    return event


@contextmanager
def dispatch_together() -> Iterator[None]:
    """Events published inside are dispatched together, in one transaction, once the enclosing transaction commits."""
    # A worker's pass publishes an event per item it applies: one dispatch transaction each cost more than the
    # items themselves. The callback is registered where the block ends, so it lives and dies with the
    # transaction around the block; an event rolled back by an inner savepoint is only skipped (dispatch reads
    # the rows that exist). Nested blocks join the outermost one.
    connection = transaction.get_connection()
    if getattr(connection, "hi_event_batch", None) is not None:
        yield
        return
    batch: list = []
    connection.hi_event_batch = batch
    try:
        yield
    finally:
        connection.hi_event_batch = None
        if batch:
            transaction.on_commit(partial(dispatch_many, batch))


def hooks_for(integration: Integration) -> list[EventHook]:
    """The hooks an integration's gateway declares."""
    gateway = get_integration_gateway(integration.integration_type)
    return list(gateway.event_hooks()) if gateway.supports(Capability.EVENT_HOOKS) else []


def dispatch(event_id) -> int:
    """Run every matching hook of the workspace's integrations for one event, once; return how many ran."""
    return dispatch_many([event_id])


def dispatch_many(event_ids) -> int:
    """Run every matching hook for each event not dispatched yet, in the order given, a chunk per transaction; return how many ran."""
    ids = list(dict.fromkeys(event_ids))
    return sum(_dispatch_chunk(ids[start:start + DISPATCH_CHUNK]) for start in range(0, len(ids), DISPATCH_CHUNK))


def _dispatch_chunk(ids: list) -> int:
    """One transaction: lock the chunk's undispatched events, run their hooks (each in a savepoint), mark them dispatched."""
    ran = 0
    try:
        with transaction.atomic():
            # Locked in key order, as the sweep locks them: two dispatchers never wait on each other in a circle.
            found = Event.objects.select_for_update().filter(pk__in=ids, dispatched_at__isnull=True).order_by("pk")
            position = {pk: index for index, pk in enumerate(ids)}
            pending = sorted(found, key=lambda event: position[event.pk])
            if not pending:
                return 0  # already dispatched (by this process or by the worker's sweep), or rolled back
            integrations: dict[Any, list[tuple[Integration, list[EventHook]]] | None] = {}
            done = []
            for event in pending:
                if event.workspace_id not in integrations:
                    integrations[event.workspace_id] = _workspace_hooks(event.workspace_id)
                if integrations[event.workspace_id] is None:
                    continue  # left for the sweep, as before: the other workspaces' events still go
                ran += _run_hooks(event, integrations[event.workspace_id])
                done.append(event.pk)
            Event.objects.filter(pk__in=done).update(dispatched_at=timezone.now())
    except Exception:  # noqa: BLE001 - the worker's sweep dispatches them later
        logger.exception("Dispatching events %s failed; the worker will retry.", ", ".join(str(pk) for pk in ids[:5]))
    return ran


def _workspace_hooks(workspace_id) -> list[tuple[Integration, list[EventHook]]] | None:
    """The workspace's integrations with their hooks; None (logged) when one's hooks cannot be read."""
    try:
        return [(integration, hooks_for(integration)) for integration in Integration.objects.filter(workspace_id=workspace_id)]
    except Exception:  # noqa: BLE001 - a gateway that cannot be built (its service gone) fails only its workspace's events
        logger.exception("Reading the event hooks of workspace %s failed; its events wait for the worker's retry.", workspace_id)
        return None


def _run_hooks(event: Event, integrations: list[tuple[Integration, list[EventHook]]]) -> int:
    """Run the hooks that want this event, each in a savepoint: one broken hook must not undo the others."""
    ran = 0
    for integration, hooks in integrations:
        for hook in hooks:
            if not hook.matches(event.type):
                continue
            try:
                with transaction.atomic():
                    hook.run(event, integration)
                ran += 1
            except Exception:  # noqa: BLE001 - logged; the other hooks still run
                logger.exception("Hook %s of %s failed on event %s", hook.pattern, integration.pk, event.pk)
    return ran


def dispatch_pending(older_than: timedelta = timedelta(seconds=10)) -> int:
    """Dispatch events a crashed process committed but never dispatched (the worker's sweep), oldest first."""
    cutoff = timezone.now() - older_than
    pending = list(
        Event.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff).order_by("created_at").values_list("pk", flat=True)[:500]
    )
    dispatch_many(pending)
    return len(pending)
