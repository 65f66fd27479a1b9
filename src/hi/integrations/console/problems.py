"""Health problems of a working integration, in words: the dashboard card, the manage page, the CLI and diagnostics."""
# An active integration can still be in trouble while it looks fine: a scheduled job failing at every
# run (the provider's queue is not being read), events that could not be read. Each kind of trouble
# is one *source* below: a function of a list of integrations returning {integration id: [Problem]},
# in a fixed number of queries, so the dashboard asks once for all its cards. A problem that
# `degrades` shows the integration as "Degraded" (its state stays active: it keeps working); the
# others are shown as notes. Problems are computed, never stored: they clear as soon as their cause
# does (the next successful run of the job).
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from django.db.models import Count, Min
from django.utils import timezone

from ..contract.gateway import Capability
from ..engine.refusals import floods_by_integration
from ..factory import get_integration_gateway
from ..models import InboundEvent, Integration, IntegrationState, JobState

#: Failed runs in a row after which a job's integration is Degraded: one bad minute is not a problem.
DEGRADED_AFTER = 3
#: How far back failed events are counted.
EVENTS_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a working integration, said so an operator can act on it."""

    code: str
    message: str
    since: datetime | None = None
    #: Whether it shows the integration as Degraded (a failing job does; a few unreadable events do not).
    degrades: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the CLI and diagnostics."""
        return {
            "code": self.code, "message": self.message, "since": self.since.isoformat() if self.since else None, "degrades": self.degrades
        }


ProblemSource = Callable[[list[Integration]], dict[Any, list[Problem]]]


def _job_titles(integration: Integration) -> dict[str, str]:
    """{job name: title} of the jobs the integration's gateway declares."""
    try:
        gateway = get_integration_gateway(integration.integration_type)
    except (ValueError, ImportError):
        return {}
    return {job.name: job.title for job in gateway.scheduled_jobs()} if gateway.supports(Capability.SCHEDULED_JOBS) else {}


def failing_jobs(integrations: list[Integration]) -> dict[Any, list[Problem]]:
    """A scheduled job that failed DEGRADED_AFTER times in a row or more, with its last error."""
    by_pk = {i.pk: i for i in integrations}
    found: dict[Any, list[Problem]] = defaultdict(list)
    failing = JobState.objects.filter(integration_id__in=list(by_pk), consecutive_failures__gte=DEGRADED_AFTER).order_by("name")
    titles: dict[Any, dict[str, str]] = {}
    for job in failing:
        integration = by_pk[job.integration_id]
        if integration.integration_type not in titles:
            titles[integration.integration_type] = _job_titles(integration)
        title = titles[integration.integration_type].get(job.name, job.name.replace("_", " ").capitalize())
        message = f"{title} has failed {job.consecutive_failures} times in a row: {job.last_error or 'no error text'}"
        found[job.integration_id].append(Problem("job_failing", message, job.failing_since))
    return found


def failed_events(integrations: list[Integration]) -> dict[Any, list[Problem]]:
    """Inbound events of the last 24 hours that could not be read or processed (see Inbound requests)."""
    since = timezone.now() - EVENTS_WINDOW
    rows = (
        InboundEvent.objects.filter(
            integration_id__in=[i.pk for i in integrations], status=InboundEvent.Status.FAILED, received_at__gte=since
        )
        .values("integration_id").annotate(n=Count("pk"), first=Min("received_at")).order_by()
    )
    found: dict[Any, list[Problem]] = {}
    for row in rows:
        count = row["n"]
        message = (
            f"{count} event{'s' if count != 1 else ''} from the provider could not be read or processed in the last 24 hours "
            "(see Inbound requests)."
        )
        found[row["integration_id"]] = [Problem("failed_events", message, row["first"], degrades=False)]
    return found


def refused_floods(integrations: list[Integration]) -> dict[Any, list[Problem]]:
    """Floods of refused inbound requests from one source (counted, not logged one by one: refusals.py)."""
    return {
        pk: [Problem("refusal_flood", flood.text, flood.first_at, degrades=False) for flood in floods]
        for pk, floods in floods_by_integration(integrations).items()
    }


#: Every source, in the order problems are shown. A new signal (a listener that cannot stay
#: connected) is one more function here.
SOURCES: list[ProblemSource] = [failing_jobs, failed_events, refused_floods]


def problems_by_integration(integrations: Iterable[Integration]) -> dict[Any, list[Problem]]:
    """{integration id: [Problem]} for many integrations at once; only active ones can have problems."""
    active = [i for i in integrations if i.state == IntegrationState.ACTIVE]
    found: dict[Any, list[Problem]] = {i.pk: [] for i in active}
    if active:
        for source in SOURCES:
            for pk, listed in source(active).items():
                found[pk].extend(listed)
    return found


def problems(integration: Integration) -> list[Problem]:
    """The integration's problems now ([] when it is fine, or not active)."""
    return problems_by_integration([integration]).get(integration.pk, [])


def is_degraded(found: list[Problem]) -> bool:
    """Whether any of the problems shows the integration as Degraded."""
    return any(p.degrades for p in found)


def health_word(found: list[Problem]) -> str:
    """'degraded' or 'ok', as the CLI and diagnostics say it."""
    return "degraded" if is_degraded(found) else "ok"
