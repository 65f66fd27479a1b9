"""The iFood service's scheduled jobs: polling the event queue and reading the merchants' status."""
from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from hi.integrations.api import Integration, ProviderAuthError, ProviderError, ScheduledJob, attribute_values, mark_auth_failed

from . import polling
from .client import IFoodClient, parse_merchants
from .models import state_of

logger = logging.getLogger(__name__)


def _auth_failed(integration: Integration, exc: ProviderAuthError) -> None:
    """A 401 the token refresh did not cure: the operator must re-authenticate."""
    mark_auth_failed(integration, str(exc), "worker", "iFood refused the credential")


def poll_events(integration: Integration) -> None:
    """The polling job's body."""
    try:
        polling.poll(integration)
    except polling.PollFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, ProviderAuthError) and cause.status == 401:
            _auth_failed(integration, cause)
        raise


def record_status(integration: Integration, client: IFoodClient | None = None, *, strict: bool = False) -> None:
    """Read and keep each merchant's status (state OK / WARNING / CLOSED / ERROR, with validations)."""
    # A merchant that cannot be read keeps its last status, with the error shown; `strict` (activation)
    # raises instead. A refused credential always raises.
    values = attribute_values(integration)
    client = client or IFoodClient(values, integration=integration)
    state = state_of(integration)
    statuses, errors = {}, []
    for merchant in parse_merchants(values["merchant_ids"]):
        try:
            statuses[merchant] = client.merchant_status(merchant)
        except ProviderError as exc:
            statuses[merchant] = state.merchant_status.get(merchant, [])
            errors.append(f"{merchant}: {exc}")
            if strict or isinstance(exc, ProviderAuthError):
                raise
    state.merchant_status = statuses
    state.merchant_status_at = timezone.now()
    state.merchant_status_error = "; ".join(errors)[:2000]
    state.save(update_fields=["merchant_status", "merchant_status_at", "merchant_status_error"])


def merchant_status(integration: Integration) -> None:
    """The status job's body."""
    try:
        record_status(integration)
    except ProviderAuthError as exc:
        if exc.status == 401:
            _auth_failed(integration, exc)
        raise


def poll_interval_s() -> float:
    """Seconds between polls (HI_IFOOD_POLL_INTERVAL_S): iFood expects about 30."""
    return float(getattr(settings, "HI_IFOOD_POLL_INTERVAL_S", 30))


def declared() -> list[ScheduledJob]:
    """Polling every HI_IFOOD_POLL_INTERVAL_S (30 s) on the lease holder only; merchants' status every minute."""
    return [
        ScheduledJob("poll_events", poll_interval_s(), poll_events, single_owner=True, label="Polling iFood's event queue"),
        ScheduledJob("merchant_status", 60, merchant_status, label="Reading the stores' status"),
    ]
