"""Polling iFood's event queue: store every event, then acknowledge every event, on one worker only."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from hi.integrations.http import ProviderError, ProviderRateLimited
from hi.integrations.models import InboundEvent, Integration
from hi.integrations.store import attribute_values

from .client import ACK_MAX_IDS, POLLING_MAX_MERCHANTS, IFoodClient, chunks, parse_merchants
from .models import ServiceState, state_of
from .processing import event_time

logger = logging.getLogger(__name__)
Status = InboundEvent.Status
#: The statuses the dedupe constraint counts: an event id stored in one of them is never stored again.
KEPT = (Status.ACCEPTED, Status.PROCESSED, Status.FAILED)
#: provider-apis.md §1.3: the strike block lasts 5 minutes when iFood gives no Retry-After.
BLOCK_S = 300


def store(integration: Integration, events: list[dict[str, Any]]) -> int:
    """Store events not seen before as accepted inbound rows (the worker processes them); return how many were new."""
    ids = [str(e["id"]) for e in events]
    seen = set(
        InboundEvent.objects.filter(integration=integration, provider_event_id__in=ids, status__in=KEPT).values_list("provider_event_id", flat=True)
    )
    new = 0
    with transaction.atomic():
        for event in events:
            event_id = str(event["id"])
            if event_id in seen:
                continue  # iFood redelivers until acknowledged, and sometimes after (§1.3)
            seen.add(event_id)
            body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            try:
                with transaction.atomic():
                    InboundEvent.objects.create(
                        workspace_id=integration.workspace_id, integration=integration, status=Status.ACCEPTED, http_status=200,
                        provider_event_id=event_id[:255], event_type=str(event.get("code") or "")[:100],
                        headers={"source": "polling"}, body=body, body_size=len(body.encode()),
                    )
                    new += 1
            except IntegrityError:
                continue  # stored meanwhile by a webhook delivery of the same event
    return new


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
            received += [e for e in client.poll(lot) if e.get("id")]
    except ProviderRateLimited as exc:
        # The strike block (§1.3): asking again before it ends only prolongs it.
        state.blocked_until = now + timedelta(seconds=exc.retry_after or BLOCK_S)
        error, failure = str(exc), exc
    except ProviderError as exc:
        error, failure = str(exc), exc
    # Persist first, acknowledge after: an event acknowledged but not stored would be lost.
    received.sort(key=event_time)
    new = store(integration, received) if received else 0
    if received:
        acknowledge(client, state, sorted({str(e["id"]) for e in received}))
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
