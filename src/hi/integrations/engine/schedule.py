"""Scheduled jobs' occurrences: the compare-and-set that runs each once, and the record of how it went."""
from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Integration, JobState


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
                JobState.objects.create(
                    integration=integration, name=name, next_run_at=now + timedelta(seconds=interval_s), last_run_at=now
                )
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
