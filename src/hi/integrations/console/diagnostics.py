"""The diagnostics document of an integration: everything support needs, secrets redacted."""
from __future__ import annotations

import platform
from typing import Any

import django
from django.utils import timezone

import hi

from ..config.store import display_values, secret_values, specs_for
from ..core.redaction import REDACTED, redact_data
from ..factory import get_integration_gateway
from ..models import Integration, IntegrationLog
from .problems import health_word, problems

RECENT = 50


def build_diagnostics(integration: Integration) -> dict[str, Any]:
    """A JSON-ready dict describing the integration; no secret value can appear in it."""
    specs = specs_for(integration.integration_type)
    secrets = secret_values(integration)
    values = display_values(integration)
    attributes = {spec.key: (REDACTED if values[spec.key] else "") if spec.is_secret else values[spec.key] for spec in specs}
    gateway = get_integration_gateway(integration.integration_type)
    found = problems(integration)
    try:
        extra = gateway.diagnostics(integration)
    except Exception as exc:  # noqa: BLE001 - diagnostics must download even when the service breaks
        extra = {"error": f"{type(exc).__name__}: {exc}"}
    document = {
        "generated_at": timezone.now().isoformat(),
        "versions": {
            "hi": hi.__version__,
            "django": django.get_version(),
            "python": platform.python_version(),
        },
        "integration": {
            "id": str(integration.pk),
            "type": integration.integration_type,
            "name": integration.name,
            "unique_id": integration.unique_id,
            "workspace": integration.workspace.slug,
            "state": integration.state,
            "reason": integration.reason,
            "retry_count": integration.retry_count,
            "next_attempt_at": integration.next_attempt_at.isoformat() if integration.next_attempt_at else None,
            "created_at": integration.created_at.isoformat(),
            "capabilities": sorted(c.value for c in gateway.capabilities),
        },
        "health": health_word(found),
        "problems": [p.as_dict() for p in found],
        "attributes": attributes,
        "state_history": [
            {
                "at": change.at.isoformat(),
                "from": change.from_state,
                "to": change.to_state,
                "reason": change.reason,
                "actor": change.actor,
            }
            for change in integration.state_changes.all()[:RECENT]
        ],
        "attribute_history": [
            {
                "at": change.changed_at.isoformat(),
                "attribute": change.key,
                "old": REDACTED if change.is_secret else change.old_value,
                "new": REDACTED if change.is_secret else change.new_value,
                "actor": change.actor,
            }
            for change in integration.attribute_changes.all()[:RECENT]
        ],
        "recent_errors": [
            {"at": log.at.isoformat(), "level": log.level, "message": log.message}
            for log in integration.logs.exclude(level=IntegrationLog.Level.INFO)[:RECENT]
        ],
        "entities": {"count": integration.entities.count()},
        "service": extra,
    }
    # A last pass over everything: any secret value that slipped into a message is replaced.
    return redact_data(document, secrets, keys={spec.key for spec in specs if spec.is_secret})
