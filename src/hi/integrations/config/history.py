"""The integration log and failure text: what the operator reads about an integration, secrets removed."""
from __future__ import annotations

from ..core.redaction import redact_text
from ..models import Integration, IntegrationLog
from .store import secret_values


def log(integration: Integration, level: str, message: str) -> None:
    """Append an operator-facing log line."""
    IntegrationLog.objects.create(
        workspace_id=integration.workspace_id, integration=integration, level=level, message=message
    )


def failure_text(integration: Integration, exc: BaseException) -> str:
    """The exception's message with the integration's secrets removed."""
    message = str(exc) or type(exc).__name__
    return redact_text(message, secret_values(integration))
