"""Domain events: stored with the change that causes them, dispatched to hooks after the commit."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

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


def publish(event_type: str, data: dict[str, Any], workspace, integration: Integration | None = None) -> Event:
    """Record an event in the caller's transaction and dispatch it once that transaction commits."""
    event = Event.objects.create(
        workspace_id=workspace.pk if hasattr(workspace, "pk") else workspace,
        integration=integration,
        type=event_type,
        data=data,
    )
    # A rolled-back transaction takes the event row with it, and this callback never runs.
    transaction.on_commit(lambda: dispatch(event.pk))
    return event


def hooks_for(integration: Integration) -> list[EventHook]:
    """The hooks an integration's gateway declares."""
    gateway = get_integration_gateway(integration.integration_type)
    return list(gateway.event_hooks()) if gateway.supports(Capability.EVENT_HOOKS) else []


def dispatch(event_id) -> int:
    """Run every matching hook of the workspace's integrations, once; return how many ran."""
    ran = 0
    try:
        with transaction.atomic():
            event = Event.objects.select_for_update().filter(pk=event_id, dispatched_at__isnull=True).first()
            if event is None:
                return 0  # already dispatched (by this process or by the worker's sweep)
            for integration in Integration.objects.filter(workspace_id=event.workspace_id):
                for hook in hooks_for(integration):
                    if not hook.matches(event.type):
                        continue
                    try:
                        # Each hook in a savepoint: one broken hook must not undo the others.
                        with transaction.atomic():
                            hook.run(event, integration)
                        ran += 1
                    except Exception:  # noqa: BLE001 - logged; the other hooks still run
                        logger.exception("Hook %s of %s failed on event %s", hook.pattern, integration.pk, event.pk)
            Event.objects.filter(pk=event.pk).update(dispatched_at=timezone.now())
    except Exception:  # noqa: BLE001 - the worker's sweep dispatches it later
        logger.exception("Dispatching event %s failed; the worker will retry.", event_id)
    return ran


def dispatch_pending(older_than: timedelta = timedelta(seconds=10)) -> int:
    """Dispatch events a crashed process committed but never dispatched (the worker's sweep)."""
    cutoff = timezone.now() - older_than
    pending = Event.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff).values_list("pk", flat=True)
    count = 0
    for event_id in list(pending[:500]):
        dispatch(event_id)
        count += 1
    return count
