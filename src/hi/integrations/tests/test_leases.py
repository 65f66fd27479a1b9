"""Leases and scheduled-job occurrences: one owner, taken over once the holder stops renewing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hi.integrations.engine import leases, schedule
from hi.integrations.models import JobState, Lease

pytestmark = pytest.mark.django_db


def test_one_holder_at_a_time_and_renewal():
    assert leases.acquire("job:x", "w1")
    assert not leases.acquire("job:x", "w2")
    assert leases.acquire("job:x", "w1")  # renewing your own lease
    assert leases.renew(["job:x"], "w1") == {"job:x"}
    assert leases.renew(["job:x"], "w2") == set()
    assert leases.holder_of("job:x") == "w1"


def test_an_expired_lease_is_taken_over():
    assert leases.acquire("listener:y", "dead-worker")
    Lease.objects.filter(name="listener:y").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert leases.acquire("listener:y", "w2")
    assert leases.holder_of("listener:y") == "w2"
    assert leases.renew(["listener:y"], "dead-worker") == set()


def test_release_frees_at_once():
    leases.acquire("job:z", "w1")
    leases.release("job:z", "w1")
    assert leases.acquire("job:z", "w2")


def test_takeover_happens_within_thirty_seconds_of_the_last_renewal():
    assert leases.LEASE_TTL <= timedelta(seconds=30)


def test_each_occurrence_of_a_job_is_taken_once(demo):
    assert schedule.take_due(demo, "health_check", 60)
    assert not schedule.take_due(demo, "health_check", 60)
    JobState.objects.filter(integration=demo, name="health_check").update(next_run_at=timezone.now())
    assert [schedule.take_due(demo, "health_check", 60) for _ in range(3)] == [True, False, False]
    assert schedule.take_due(None, "prune", 3600) and not schedule.take_due(None, "prune", 3600)
