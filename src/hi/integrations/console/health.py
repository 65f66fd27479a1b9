"""Health of integrations and workers: 24 h success rates, p95 latency, breaker, last error, hourly chart."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from ..engine.worker import stale_after
from ..models import (
    BreakerState,
    Directive,
    DirectiveAttempt,
    DirectiveStatus,
    InboundEvent,
    Integration,
    IntegrationLog,
    ProviderCall,
    Worker,
)
from ..outbound.breakers import breaker_state

WINDOW = timedelta(hours=24)
HOURS = 24
Outcome = DirectiveAttempt.Outcome
CALL_OK = Q(status__gte=200, status__lt=300)
# A call without a status never got an answer (timeout, connection refused): a failure.
CALL_FAILED = Q(status__isnull=True) | Q(status__lt=200) | Q(status__gte=300)
ATTEMPT_OK = Q(outcome=Outcome.DONE)
# Waiting (breaker, credentials) and interrupted (worker died) attempts say nothing about the provider.
ATTEMPT_FAILED = Q(outcome__in=[Outcome.RETRY, Outcome.FAILED, Outcome.DEAD])

# The chart's drawing box, in SVG user units.
CHART_W, CHART_H = 480, 140
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 34, 6, 10, 22


@dataclass(frozen=True)
class Bar:
    """One hour of the chart: its counts and where its two stacked bars are drawn."""

    start: datetime
    ok: int
    failed: int
    x: str
    width: str
    ok_y: str
    ok_h: str
    failed_y: str
    failed_h: str
    label: str


@dataclass(frozen=True)
class Tick:
    """An axis label and where it goes."""

    x: str
    y: str
    text: str


@dataclass(frozen=True)
class Chart:
    """An hourly bar chart of successes and failures, laid out for an inline SVG."""

    id: str
    title: str
    description: str
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = CHART_W
    height: int = CHART_H
    left: int = PAD_LEFT
    right: int = CHART_W - PAD_RIGHT
    top: int = PAD_TOP
    baseline: int = CHART_H - PAD_BOTTOM


@dataclass(frozen=True)
class Series:
    """Successes, failures and p95 duration of one kind of traffic over the window."""

    ok: int
    failed: int
    p95_ms: int | None
    chart: Chart

    @property
    def total(self) -> int:
        """Successes plus failures."""
        return self.ok + self.failed

    @property
    def success_rate(self) -> float | None:
        """Percentage of successes, None without traffic."""
        return round(100 * self.ok / self.total, 1) if self.total else None


@dataclass(frozen=True)
class LastError:
    """The most recent error seen for an integration, and where it came from."""

    at: datetime
    source: str
    text: str


@dataclass(frozen=True)
class Health:
    """Everything the manage page's health region shows."""

    calls: Series
    directives: Series
    breaker_state: str
    breaker_label: str
    breaker_since: datetime | None
    last_error: LastError | None
    #: Inbound events of the window that could not be read or processed.
    failed_events: int = 0

    @property
    def has_traffic(self) -> bool:
        """Whether anything happened in the window."""
        return bool(self.calls.total or self.directives.total)


def p95(queryset: QuerySet, field: str) -> int | None:
    """The nearest-rank 95th percentile of a column, read as one row (memory stays bounded)."""
    values = queryset.filter(**{f"{field}__isnull": False}).order_by(field).values_list(field, flat=True)
    count = values.count()
    if not count:
        return None
    return values[math.ceil(0.95 * count) - 1]


def first_hour(now: datetime) -> datetime:
    """The start of the chart's first hour: 23 whole hours before the current one."""
    return timezone.localtime(now).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)


def hourly(queryset: QuerySet, field: str, ok: Q, failed: Q, now: datetime) -> list[tuple[datetime, int, int]]:
    """(hour start, successes, failures) for each of the last 24 hours, oldest first."""
    start = first_hour(now)
    counts = [[0, 0] for _ in range(HOURS)]
    rows = (
        queryset.filter(**{f"{field}__gte": start})
        .annotate(hour=TruncHour(field))
        .values("hour")
        .annotate(ok=Count("pk", filter=ok), failed=Count("pk", filter=failed))
        .order_by()
    )
    for row in rows:
        index = int((row["hour"] - start).total_seconds() // 3600)
        if 0 <= index < HOURS:
            counts[index][0] += row["ok"]
            counts[index][1] += row["failed"]
    return [(start + timedelta(hours=i), ok_n, failed_n) for i, (ok_n, failed_n) in enumerate(counts)]


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at least `value` (an axis maximum people can read)."""
    if value <= 1:
        return 1
    magnitude = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _n(value: float) -> str:
    """An SVG coordinate with one decimal, independent of the locale."""
    return f"{value:.1f}"


def build_chart(chart_id: str, title: str, noun: str, hours: list[tuple[datetime, int, int]]) -> Chart:
    """Lay out stacked bars (successes below, failures on top) with axis labels."""
    top_value = nice_ceiling(max((ok + failed for _, ok, failed in hours), default=0))
    plot_w, plot_h = CHART_W - PAD_LEFT - PAD_RIGHT, CHART_H - PAD_TOP - PAD_BOTTOM
    slot = plot_w / HOURS
    baseline = CHART_H - PAD_BOTTOM
    bars = []
    for index, (start, ok, failed) in enumerate(hours):
        ok_h, failed_h = plot_h * ok / top_value, plot_h * failed / top_value
        local = timezone.localtime(start)
        bars.append(Bar(
            start=start, ok=ok, failed=failed,
            x=_n(PAD_LEFT + index * slot + slot * 0.15), width=_n(slot * 0.7),
            ok_y=_n(baseline - ok_h), ok_h=_n(ok_h), failed_y=_n(baseline - ok_h - failed_h), failed_h=_n(failed_h),
            label=f"{local:%H}:00–{(local + timedelta(hours=1)):%H}:00: {ok} succeeded, {failed} failed",
        ))
    x_ticks = [
        Tick(x=_n(PAD_LEFT + index * slot + slot / 2), y=_n(CHART_H - 6), text=f"{timezone.localtime(hours[index][0]):%H}:00")
        for index in range(0, HOURS, 6)
    ] + [Tick(x=_n(PAD_LEFT + (HOURS - 0.5) * slot), y=_n(CHART_H - 6), text="now")]
    y_ticks = [Tick(x=_n(PAD_LEFT - 4), y=_n(baseline + 4), text="0"), Tick(x=_n(PAD_LEFT - 4), y=_n(PAD_TOP + 4), text=str(top_value))]
    ok_total, failed_total = sum(h[1] for h in hours), sum(h[2] for h in hours)
    busiest = max(hours, key=lambda h: h[1] + h[2])
    description = f"Last 24 hours: {ok_total} {noun} succeeded and {failed_total} failed."
    if ok_total + failed_total:
        description += f" Busiest hour: {timezone.localtime(busiest[0]):%H}:00 with {busiest[1] + busiest[2]}."
    return Chart(id=chart_id, title=title, description=description, bars=bars, x_ticks=x_ticks, y_ticks=y_ticks)


def _series(queryset: QuerySet, field: str, ok: Q, failed: Q, duration: str, now: datetime, chart: tuple[str, str, str]) -> Series:
    """Totals over the last 24 h, the p95 duration and the hourly chart of one kind of traffic."""
    window = queryset.filter(**{f"{field}__gte": now - WINDOW})
    totals = window.aggregate(ok=Count("pk", filter=ok), failed=Count("pk", filter=failed))
    return Series(
        ok=totals["ok"], failed=totals["failed"], p95_ms=p95(window.filter(ok | failed), duration),
        chart=build_chart(*chart, hourly(queryset, field, ok, failed, now)),
    )


def last_error(integration: Integration) -> LastError | None:
    """The latest of: a failed provider call, a directive's error, an error line in the log."""
    found: list[LastError] = []
    call = ProviderCall.objects.filter(integration=integration).filter(CALL_FAILED).order_by("-at", "-id").first()
    if call is not None:
        outcome = f"answered {call.status}" if call.status is not None else "got no answer"
        detail = f" ({call.error_class})" if call.error_class else ""
        found.append(LastError(call.at, "Provider call", f"{call.method} {call.url} {outcome}{detail}"))
    directive = Directive.objects.filter(integration=integration).exclude(last_error="").order_by("-updated_at", "-id").first()
    if directive is not None:
        found.append(LastError(directive.updated_at, f"Directive #{directive.pk} ({directive.topic})", directive.last_error))
    line = IntegrationLog.objects.filter(integration=integration, level=IntegrationLog.Level.ERROR).order_by("-at", "-id").first()
    if line is not None:
        found.append(LastError(line.at, "Log", line.message))
    return max(found, key=lambda error: error.at, default=None)


def integration_health(integration: Integration, now: datetime | None = None) -> Health:
    """Compute the health region of one integration (a dozen bounded queries)."""
    now = now or timezone.now()
    calls = _series(
        ProviderCall.objects.filter(integration=integration), "at", CALL_OK, CALL_FAILED, "duration_ms", now,
        (f"calls-{integration.pk}", "Provider calls per hour, last 24 hours", "calls"),
    )
    attempts = _series(
        DirectiveAttempt.objects.filter(directive__integration=integration), "started_at", ATTEMPT_OK, ATTEMPT_FAILED, "duration_ms", now,
        (f"attempts-{integration.pk}", "Directive attempts per hour, last 24 hours", "attempts"),
    )
    breaker = BreakerState.objects.filter(integration=integration).first()
    # An open breaker past its reset timeout lets the next call through: breaker_state says half-open.
    state = BreakerState.State(breaker_state(integration))
    failed = InboundEvent.objects.filter(integration=integration, status=InboundEvent.Status.FAILED, received_at__gte=now - WINDOW).count()
    return Health(
        calls=calls, directives=attempts, breaker_state=state.value, breaker_label=state.label,
        breaker_since=breaker.last_transition_at if breaker else None, last_error=last_error(integration), failed_events=failed,
    )


def directive_counts(integration: Integration) -> dict[str, int]:
    """{status: count} of an integration's directives (statuses without any are left out)."""
    rows = Directive.objects.filter(integration=integration).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def health_context(integration: Integration) -> dict[str, Any]:
    """The manage page's health region: health numbers plus the directive counts it links to."""
    counts = directive_counts(integration)
    shown = [
        {"status": s.value, "label": s.label.lower(), "count": counts[s.value]}
        for s in DirectiveStatus if counts.get(s.value)
    ]
    return {"health": integration_health(integration), "directive_counts": shown, "directive_total": sum(counts.values())}


# Workers and the queue (all workspaces: counts only) ------------------------------------------
def queue_counts(workspace=None) -> dict[str, int]:
    """{status: count} of every directive (of one workspace, when given), with every status present."""
    directives = Directive.objects.filter(workspace=workspace) if workspace is not None else Directive.objects.all()
    rows = directives.values("status").annotate(n=Count("pk")).order_by()
    counts = {s.value: 0 for s in DirectiveStatus}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


@dataclass(frozen=True)
class WorkerRow:
    """A worker as the system page shows it."""

    worker: Worker
    age_s: float
    state: str

    @property
    def label(self) -> str:
        """Alive, not responding, or stopped."""
        return {"alive": "Alive", "stale": "Not responding", "stopped": "Stopped"}[self.state]


def worker_rows(now: datetime | None = None, limit: int = 100) -> list[WorkerRow]:
    """The most recently seen workers, each alive, stale (heartbeat too old) or stopped."""
    now = now or timezone.now()
    rows = []
    for worker in Worker.objects.order_by("-heartbeat_at")[:limit]:
        age = max(0.0, (now - worker.heartbeat_at).total_seconds())
        state = "stopped" if worker.stopped_at else "alive" if age <= stale_after().total_seconds() else "stale"
        rows.append(WorkerRow(worker=worker, age_s=age, state=state))
    return rows


def youngest_heartbeat_age(now: datetime | None = None) -> float | None:
    """Seconds since the latest heartbeat of a running worker, None without one."""
    now = now or timezone.now()
    latest = Worker.objects.filter(stopped_at__isnull=True).order_by("-heartbeat_at").values_list("heartbeat_at", flat=True).first()
    return None if latest is None else round(max(0.0, (now - latest).total_seconds()), 3)
