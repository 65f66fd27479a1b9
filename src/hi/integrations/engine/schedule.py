"""Scheduled jobs: what gateways declare, and the compare-and-set that runs each occurrence once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Integration, JobState


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs every `interval_s` for each active integration of the declaring type.

    `single_owner` jobs (a provider queue that allows one consumer) run only on the worker that
    holds the job's lease, never on two workers at once.
    """

    name: str
    interval_s: float
    run: Callable[[Integration], None]
    single_owner: bool = False
    #: What the job does, in words an operator reads when it keeps failing ("Polling iFood's event queue").
    label: str = ""

    @property
    def title(self) -> str:
        """The label, or the name in words."""
        return self.label or self.name.replace("_", " ").capitalize()


def lease_name(integration: Integration | None, job_name: str) -> str:
    """The lease that gives a worker the right to run a single-owner job."""
    return f"job:{integration.pk if integration else 'hi'}:{job_name}"


def take_due(integration: Integration | None, name: str, interval_s: float) -> bool:
    """Claim the current occurrence of a job if it is due; exactly one caller wins it."""
    now = timezone.now()
    state = JobState.objects.filter(integration=integration, name=name).first()
    if state is None:
        try:
            with transaction.atomic():
                JobState.objects.create(integration=integration, name=name, next_run_at=now + timedelta(seconds=interval_s), last_run_at=now)
            return True
        except IntegrityError:
            return False  # another worker created it first and runs this occurrence
    if state.next_run_at > now:
        return False
    # Compare-and-set on the next run time: of several workers, only one moves it forward.
    return bool(
        JobState.objects.filter(pk=state.pk, next_run_at=state.next_run_at).update(
            next_run_at=now + timedelta(seconds=interval_s), last_run_at=now
        )
    )


def record(integration: Integration | None, name: str, duration_ms: int, error: str = "") -> None:
    """Store how the occurrence went, counting failures in a row (a success resets the count)."""
    state = JobState.objects.filter(integration=integration, name=name)
    if error:
        state.update(
            last_duration_ms=duration_ms, last_error=error[:2000],
            consecutive_failures=F("consecutive_failures") + 1, failing_since=Coalesce(F("failing_since"), timezone.now()),
        )
    else:
        state.update(last_duration_ms=duration_ms, last_error="", consecutive_failures=0, failing_since=None)
