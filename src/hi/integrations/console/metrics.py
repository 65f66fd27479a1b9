"""Prometheus metrics read from the database at each scrape (the web process runs no directives)."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

from django.db.models import Case, CharField, Count, Q, Sum, Value, When
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ..engine.worker import live_worker_ids
from ..models import BreakerState, Directive, DirectiveAttempt, Integration, ProviderCall
from ..outbound.breakers import open_breakers

#: Upper bounds of the attempt duration histogram, in seconds.
DURATION_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
DURATION_WINDOW = timedelta(hours=24)
BREAKER_VALUES = {BreakerState.State.CLOSED: 0, BreakerState.State.HALF_OPEN: 1, BreakerState.State.OPEN: 2}

STATUS_CLASS = Case(
    When(status__isnull=True, then=Value("error")),
    When(status__lt=200, then=Value("1xx")),
    When(status__lt=300, then=Value("2xx")),
    When(status__lt=400, then=Value("3xx")),
    When(status__lt=500, then=Value("4xx")),
    When(status__lt=600, then=Value("5xx")),
    default=Value("other"),
    output_field=CharField(),
)


class HiCollector(Collector):
    """Directives, attempt durations, breakers, provider calls and workers, counted in the database."""

    def collect(self) -> Iterator[Metric]:
        """Yield every family (one or two queries each)."""
        yield self.directives()
        yield self.attempt_durations()
        yield self.breakers()
        yield self.provider_calls()
        yield self.workers()

    def directives(self) -> Metric:
        """hi_directives{topic,status}: directives currently in each status."""
        family = GaugeMetricFamily("hi_directives", "Directives by topic and status.", labels=["topic", "status"])
        rows = Directive.objects.values("topic", "status").annotate(n=Count("pk")).order_by("topic", "status")
        for row in rows:
            family.add_metric([row["topic"], row["status"]], row["n"])
        return family

    def attempt_durations(self) -> Metric:
        """hi_directive_attempt_duration_seconds{topic}: finished attempts of the last 24 h."""
        family = HistogramMetricFamily(
            "hi_directive_attempt_duration_seconds",
            "Duration of directive attempts that finished in the last 24 hours.",
            labels=["topic"],
        )
        # Each bucket is a filtered count, so the database does the binning in one grouped query.
        buckets = {f"le_{i}": Count("pk", filter=Q(duration_ms__lte=bound * 1000)) for i, bound in enumerate(DURATION_BUCKETS)}
        rows = (
            DirectiveAttempt.objects.filter(started_at__gte=timezone.now() - DURATION_WINDOW, duration_ms__isnull=False)
            .values("directive__topic")
            .annotate(n=Count("pk"), total_ms=Sum("duration_ms"), **buckets)
            .order_by("directive__topic")
        )
        for row in rows:
            cumulative = [(floatToGoString(bound), row[f"le_{i}"]) for i, bound in enumerate(DURATION_BUCKETS)]
            cumulative.append(("+Inf", row["n"]))
            family.add_metric([row["directive__topic"]], cumulative, sum_value=(row["total_ms"] or 0) / 1000)
        return family

    def breakers(self) -> Metric:
        """hi_breaker_state{integration,type}: 0 closed, 1 half-open, 2 open (no row is closed)."""
        family = GaugeMetricFamily(
            "hi_breaker_state", "Circuit breaker state per integration: 0 closed, 1 half-open, 2 open.", labels=["integration", "type"]
        )
        waiting = set(open_breakers().values_list("integration_id", flat=True))
        rows = Integration.objects.values_list("pk", "integration_type", "breaker__state").order_by("pk")
        for pk, integration_type, state in rows:
            # A row still "open" past its reset timeout lets the next call through: half-open.
            if state == BreakerState.State.OPEN and pk not in waiting:
                state = BreakerState.State.HALF_OPEN
            family.add_metric([str(pk), integration_type], BREAKER_VALUES.get(state or BreakerState.State.CLOSED, 0))
        return family

    def provider_calls(self) -> Metric:
        """hi_provider_calls{integration,type,status_class}: calls kept in the call log (its retention window)."""
        family = GaugeMetricFamily(
            "hi_provider_calls",
            "Provider HTTP attempts recorded in the call log (retention window), by status class.",
            labels=["integration", "type", "status_class"],
        )
        rows = (
            ProviderCall.objects.annotate(status_class=STATUS_CLASS)
            .values("integration_id", "integration__integration_type", "status_class")
            .annotate(n=Count("pk"))
            .order_by("integration_id", "status_class")
        )
        for row in rows:
            family.add_metric([str(row["integration_id"]), row["integration__integration_type"], row["status_class"]], row["n"])
        return family

    def workers(self) -> Metric:
        """hi_workers_alive: workers with a recent heartbeat."""
        family = GaugeMetricFamily("hi_workers_alive", "Workers whose heartbeat is recent.")
        family.add_metric([], len(live_worker_ids()))
        return family


# A registry of our own: the default one would add this process's metrics, which say nothing about the work.
registry = CollectorRegistry(auto_describe=False)
registry.register(HiCollector())


def render() -> bytes:
    """The exposition text of every family."""
    return generate_latest(registry)
