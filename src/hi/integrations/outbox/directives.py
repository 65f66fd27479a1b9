"""Directives, the outbox: a service's request for provider work, written with the change that causes it (engine/execution.py runs them)."""
from __future__ import annotations

import threading
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..contract.declarations import DirectiveHandler
from ..contract.gateway import Capability
from ..factory import get_integration_gateway
from ..models import Directive, Integration
from ..models.engine import LIVE_STATUSES
from ..types import IntegrationType

_extra_handlers: dict[str, DirectiveHandler] = {}
_registry: dict[str, DirectiveHandler] | None = None
_registry_lock = threading.Lock()


def register(handler: DirectiveHandler) -> DirectiveHandler:
    """Register a handler outside a gateway (framework topics, tests); a topic has one handler."""
    with _registry_lock:
        global _registry
        _extra_handlers[handler.topic] = handler
        _registry = None
    return handler


def handlers() -> dict[str, DirectiveHandler]:
    """Every topic's handler: those the gateways declare plus the registered ones."""
    global _registry
    if _registry is not None:
        return _registry
    with _registry_lock:
        found: dict[str, DirectiveHandler] = dict(_extra_handlers)
        for member in IntegrationType:
            gateway = get_integration_gateway(member)
            if gateway.supports(Capability.DIRECTIVE_HANDLERS):
                for handler in gateway.directive_handlers():
                    if handler.topic in found and found[handler.topic] is not handler:
                        raise ValueError(f"Two handlers for directive topic {handler.topic!r}.")
                    found[handler.topic] = handler
        _registry = found
    return found


def enqueue(
    integration: Integration,
    topic: str,
    payload: dict[str, Any] | None = None,
    *,
    dedupe_key: str = "",
    run_at=None,
    max_attempts: int | None = None,
) -> Directive:
    """Write a directive in the caller's transaction; a live one with the same topic and key wins."""
    handler = handlers().get(topic)
    if handler is None:
        raise ValueError(f"No handler is registered for directive topic {topic!r}.")
    fields = dict(
        workspace_id=integration.workspace_id,
        integration=integration,
        topic=topic,
        payload=payload or {},
        dedupe_key=dedupe_key,
        next_run_at=run_at or timezone.now(),
        max_attempts=max_attempts or handler.attempts_allowed,
    )
    if not dedupe_key:
        return Directive.objects.create(**fields)
    try:
        with transaction.atomic():
            return Directive.objects.create(**fields)
    except IntegrityError:
        existing = Directive.objects.filter(topic=topic, dedupe_key=dedupe_key, status__in=LIVE_STATUSES).first()
        if existing is None:  # finished between our insert and this read: try once more
            return Directive.objects.create(**fields)
        return existing
