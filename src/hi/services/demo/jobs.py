"""The demo provider's scheduled jobs: a health check every minute, an item sync every ten minutes on one worker."""
from __future__ import annotations

from hi.integrations.api import Integration, ProviderAuthError, ScheduledJob, mark_auth_failed, sync_now

from .client import client_for


def health_check(integration: Integration) -> None:
    """Every minute: a provider that now refuses the key moves the integration to auth_failed."""
    try:
        client_for(integration).account()
    except ProviderAuthError as exc:
        mark_auth_failed(integration, str(exc), "worker", "Health check: the provider refused the API key")


def sync_items(integration: Integration) -> None:
    """Every ten minutes, on one worker only: refresh the items."""
    sync_now(integration)


HEALTH_JOB = ScheduledJob("health_check", 60, health_check, label="The health check")
SYNC_JOB = ScheduledJob("sync_items", 600, sync_items, single_owner=True, label="The item sync")
