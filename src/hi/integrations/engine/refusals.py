"""Refused inbound requests: where they come from, what is kept of them, and floods counted instead of stored."""
# Anyone can post to a receive URL, so refusals must not fill the disk. A refused request keeps its
# metadata and a short excerpt of its body (accepted ones keep the whole body). Per source (an address,
# or an IPv6 /64, which one machine can roam) and integration, the first HI_INBOUND_REFUSAL_LIMIT
# refusals of each HI_INBOUND_REFUSAL_WINDOW_S window are stored row by row; the rest are answered the
# same way but only counted in one RefusalTally row, shared by every web process through the database,
# and shown once as a flood. Rejected rows have their own retention and a per-integration cap, both
# applied by the worker's housekeeping, so the request itself pays one UPDATE.
from __future__ import annotations

import ipaddress
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Case, Count, DateTimeField, F, PositiveBigIntegerField, Value, When
from django.http import HttpRequest
from django.utils import timezone

from ..models import InboundEvent, Integration, RefusalTally

logger = logging.getLogger(__name__)

#: A streak of refusals from one source ends after this long without one; a flood is shown this long.
QUIET = timedelta(hours=1)
#: IPv6 sources are counted per /64: the block one site (or one attacker) gets.
IPV6_PREFIX = 64
#: Longest reason kept on a tally.
MAX_REASON = 300


def client_address(request: HttpRequest) -> str | None:
    """The address the request came from: REMOTE_ADDR, or behind HI_BEHIND_PROXY the last X-Forwarded-For entry."""
    # The last entry is the one the trusted proxy appended; those before it are whatever the client wrote.
    raw = request.META.get("REMOTE_ADDR", "")
    if settings.HI_BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        raw = forwarded[-1] if forwarded else raw
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def source_of(address: str | None) -> str:
    """What refusals are counted by: the address, an IPv6 address's /64, or 'unknown'."""
    if address is None:
        return "unknown"
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def excerpt_bytes() -> int:
    """How much of a refused request's body is kept."""
    return max(0, settings.HI_INBOUND_REJECTED_EXCERPT_BYTES)


def admit(integration: Integration, address: str | None, status: int, reason: str) -> bool:
    """Count one refusal; True when it is to be stored row by row, False when only counted (a flood)."""
    # One UPDATE in the common case: the counters move in the database, so every web process agrees.
    now = timezone.now()
    window = now - timedelta(seconds=settings.HI_INBOUND_REFUSAL_WINDOW_S)
    last = {"last_at": now, "last_status": status, "last_reason": reason[:MAX_REASON]}
    try:
        source = source_of(address)
        tally = RefusalTally.objects.filter(integration=integration, source=source)
        if tally.filter(window_started_at__gt=window, in_window__lt=settings.HI_INBOUND_REFUSAL_LIMIT).update(
            in_window=F("in_window") + 1, refused=F("refused") + 1, **last
        ):
            return True
        if tally.filter(window_started_at__gt=window).update(
            in_window=F("in_window") + 1, refused=F("refused") + 1, unlogged=F("unlogged") + 1, **last
        ):
            return False
        # A new window; after an hour of quiet, a new streak too (SET expressions read the old row).
        quiet, count = now - QUIET, PositiveBigIntegerField()
        if tally.update(
            window_started_at=now, in_window=1,
            first_at=Case(When(last_at__lt=quiet, then=Value(now)), default=F("first_at"), output_field=DateTimeField()),
            refused=Case(When(last_at__lt=quiet, then=Value(1)), default=F("refused") + 1, output_field=count),
            unlogged=Case(When(last_at__lt=quiet, then=Value(0)), default=F("unlogged"), output_field=count),
            **last,
        ):
            return True
        with transaction.atomic():  # a savepoint: another process may create the row first
            RefusalTally.objects.create(
                integration=integration, source=source, window_started_at=now, in_window=1, first_at=now, refused=1, **last
            )
        return True
    except IntegrityError:
        return True  # the other process counted its own refusal; store this one
    except DatabaseError as exc:
        # The database is down or locked: storing the row would fail (or wait) as well.
        logger.warning("Could not count a refused request for integration %s: %s", integration.pk, type(exc).__name__)
        return False
    except Exception:  # noqa: BLE001 - counting must never turn a refusal into a 500
        logger.exception("Could not count a refused request for integration %s", integration.pk)
        return True


@dataclass(frozen=True)
class RefusalFlood:
    """Refusals from one source beyond the rate limit, as the operator reads them."""

    source: str
    refused: int
    unlogged: int
    first_at: datetime
    last_at: datetime
    last_status: int
    last_reason: str

    @property
    def text(self) -> str:
        """The flood in words, e.g. '1,234 requests refused from 203.0.113.9 since 09:12 UTC (...): bad signature'."""
        return (
            f"{self.refused:,} requests refused from {self.source} since {self.first_at:%Y-%m-%d %H:%M} UTC "
            f"({self.unlogged:,} not logged one by one; the latest answered {self.last_status}): {self.last_reason}"
        )


def refusal_floods(integration: Integration, now: datetime | None = None) -> list[RefusalFlood]:
    """Sources whose refusals went past the rate limit within the last hour, the busiest first."""
    return floods_by_integration([integration], now).get(integration.pk, [])


def floods_by_integration(integrations: list[Integration], now: datetime | None = None) -> dict[Any, list[RefusalFlood]]:
    """{integration id: its floods of the last hour, busiest first, at most 20}, in one query."""
    now = now or timezone.now()
    rows = RefusalTally.objects.filter(
        integration_id__in=[i.pk for i in integrations], unlogged__gt=0, last_at__gte=now - QUIET
    ).order_by("-refused")
    found: dict[Any, list[RefusalFlood]] = defaultdict(list)
    for row in rows:
        if len(found[row.integration_id]) < 20:
            found[row.integration_id].append(
                RefusalFlood(row.source, row.refused, row.unlogged, row.first_at, row.last_at, row.last_status, row.last_reason)
            )
    return found


def prune(now: datetime | None = None) -> int:
    """Delete rejected rows past HI_INBOUND_REJECTED_DAYS and tallies quiet as long; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HI_INBOUND_REJECTED_DAYS)
    pruned = InboundEvent.objects.filter(status=InboundEvent.Status.REJECTED, received_at__lt=cutoff).delete()[0]
    return pruned + RefusalTally.objects.filter(last_at__lt=min(cutoff, now - QUIET)).delete()[0]


def enforce_cap(limit: int | None = None) -> int:
    """Keep at most `limit` (HI_INBOUND_REJECTED_MAX) rejected rows per integration, deleting the oldest; return how many."""
    limit = settings.HI_INBOUND_REJECTED_MAX if limit is None else limit
    rejected = InboundEvent.objects.filter(status=InboundEvent.Status.REJECTED)
    over = rejected.values("integration_id").annotate(n=Count("pk")).filter(n__gt=limit).order_by()
    deleted = 0
    for row in over:
        theirs = rejected.filter(integration_id=row["integration_id"])
        if limit <= 0:
            deleted += theirs.delete()[0]
            continue
        # The received_at of the newest row beyond the cap: it and everything older go.
        cutoff = theirs.order_by("-received_at", "-pk").values_list("received_at", flat=True)[limit]
        deleted += theirs.filter(received_at__lte=cutoff).delete()[0]
    return deleted
