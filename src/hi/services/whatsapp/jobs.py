"""The WhatsApp service's scheduled jobs: the templates every 6 hours, the phone number's health every hour."""
from __future__ import annotations

from django.utils import timezone

from hi.integrations.api import (
    Integration,
    ProviderAuthError,
    ProviderError,
    ScheduledJob,
    mark_auth_failed,
    sync_now,
)

from .client import client_for
from .models import phone_of

TEMPLATES_EVERY_S = 6 * 3600
PHONE_EVERY_S = 3600


def record_phone(integration: Integration, info: dict) -> None:
    """Keep what Meta says about the number (display number, verified name, quality rating)."""
    state = phone_of(integration)
    state.display_phone_number = str(info.get("display_phone_number") or state.display_phone_number)[:40]
    state.verified_name = str(info.get("verified_name") or state.verified_name)[:200]
    state.quality_rating = str(info.get("quality_rating") or "UNKNOWN")[:20]
    state.checked_at, state.last_error = timezone.now(), ""
    state.save()


def check_phone(integration: Integration) -> None:
    """Hourly: read the number's quality rating; a refused token (190, over 400 or 401) needs re-authentication."""
    try:
        record_phone(integration, client_for(integration).phone_number())
    except ProviderAuthError as exc:
        mark_auth_failed(integration, str(exc), "worker", "WhatsApp refused the access token")
        raise
    except ProviderError as exc:
        state = phone_of(integration)
        state.last_error = str(exc)[:2000]
        state.save(update_fields=["last_error"])
        raise


def sync_templates(integration: Integration) -> None:
    """Every 6 hours: the business account's templates (new approvals, rejections)."""
    sync_now(integration)


TEMPLATES_JOB = ScheduledJob("sync_templates", TEMPLATES_EVERY_S, sync_templates, single_owner=False, label="Reading the message templates")
PHONE_JOB = ScheduledJob("check_phone", PHONE_EVERY_S, check_phone, label="Reading the phone number's quality rating")
