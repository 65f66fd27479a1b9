"""Polling iFood's event queue: store every event, then acknowledge every event, on one worker only."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from hi.integrations.api import Integration, ProviderError, ProviderRateLimited, attribute_values, store_batch

from .client import ACK_MAX_IDS, POLLING_MAX_MERCHANTS, IFoodClient, chunks, parse_merchants
from .models import ServiceState, state_of
from .processing import event_time, identify

logger = logging.getLogger(__name__)
#: The strike block lasts 5 minutes when iFood gives no Retry-After: https://developer.ifood.com.br/pt-BR/docs/guides/modules/events/polling-overview
BLOCK_S = 300


def ack_ids(events: list[Any]) -> list[str]:
    """Every id iFood can take back: each event's string id, the unreadable events' too (else they return forever)."""
    return sorted({e["id"] for e in events if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]})


def poll(integration: Integration) -> None:
    """One poll: fetch per lot of 100 merchants, store (committed), then acknowledge all, including codes hi ignores."""
    values = attribute_values(integration)
    if values.get("event_mode") != "polling":
        return
    state = state_of(integration)
    now = timezone.now()
    if state.blocked_until and state.blocked_until > now:
        return
    client = IFoodClient(values, integration=integration)
    received: list[dict[str, Any]] = []
    error = ""
    failure: ProviderError | None = None
    try:
        for lot in chunks(parse_merchants(values["merchant_ids"]), POLLING_MAX_MERCHANTS):
            received += client.poll(lot)
    except ProviderRateLimited as exc:
        # The strike block (iFood's polling overview): asking again before it ends only prolongs it.
        state.blocked_until = now + timedelta(seconds=exc.retry_after or BLOCK_S)
        error, failure = str(exc), exc
    except ProviderError as exc:
        error, failure = str(exc), exc
    # Persist first, acknowledge after: an event acknowledged but not stored would be lost. Each event
    # is read on its own: one that cannot be is stored as failed and acknowledged with the others.
    received.sort(key=event_time)
    new = store_batch(integration, received, identify, source="polling").new if received else 0
    if received:
        acknowledge(client, state, ack_ids(received))
    state.last_poll_at = now
    state.last_poll_ok = not error
    state.last_poll_error = error[:2000]
    state.last_poll_events = new
    state.save()
    if failure is not None:
        raise PollFailed(error) from failure


def acknowledge(client: IFoodClient, state: ServiceState, event_ids: list[str]) -> None:
    """Acknowledge every received id in lots; a failure is counted and the events come back (deduped) next poll."""
    for lot in chunks(event_ids, ACK_MAX_IDS):
        try:
            client.acknowledge(lot)
        except ProviderError as exc:
            state.ack_failures += 1
            state.last_ack_failure_at = timezone.now()
            state.last_ack_error = str(exc)[:2000]
            logger.warning("iFood acknowledgment of %d events failed: %s", len(lot), exc)


class PollFailed(Exception):
    """The poll could not fetch every lot (what it did fetch was stored and acknowledged)."""
