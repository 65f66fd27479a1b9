"""A provider outage end to end: the breaker opens, calls stop, directives wait, the queue drains."""
from __future__ import annotations

import time

import pytest
from django.utils import timezone

from hi.integrations.engine.execution import claim, execute
from hi.integrations.models import Directive, DirectiveStatus
from hi.integrations.outbound import breakers
from hi.integrations.outbound.http import forget_clients
from hi.integrations.outbox.directives import enqueue
from hi.services.demo.handlers import TOPIC_NOTE

pytestmark = pytest.mark.django_db


def run_due() -> int:
    """One worker pass over everything due now."""
    ran = claim("w1", 100)
    for directive in ran:
        execute(directive, "w1")
    return len(ran)


def make_due() -> None:
    """Let the directives' backoff pass (time travel, instead of waiting minutes)."""
    Directive.objects.filter(status=DirectiveStatus.QUEUED).update(next_run_at=timezone.now())


def test_an_outage_opens_the_breaker_and_the_queue_drains_after_recovery(demo, sim, settings):
    settings.HI_BREAKER_FAIL_MAX = 5
    settings.HI_BREAKER_RESET_S = 1
    settings.HI_HTTP_RETRIES = 0
    breakers.clear_registry()
    forget_clients()  # the integration's kept client was built with the default retries
    notes = [enqueue(demo, TOPIC_NOTE, {"text": f"n{i}"}) for i in range(8)]
    sim.faults.status = 503

    # Given an outage: the first five calls fail and open the breaker; the rest fail fast.
    run_due()
    assert len(sim.requests_to("/api/v1/notes")) == 5
    assert breakers.breaker_state(demo) == "open"
    statuses = Directive.objects.values_list("status", flat=True)
    assert set(statuses) == {DirectiveStatus.QUEUED}  # backing off or waiting, none dropped

    # While the breaker is open, nothing is claimed and the provider sees no call.
    make_due()
    assert run_due() == 0 and len(sim.requests_to("/api/v1/notes")) == 5

    # When the provider recovers and the reset timeout passes, a trial call closes the breaker.
    sim.faults.status = None
    time.sleep(1.1)
    make_due()
    run_due()
    assert breakers.breaker_state(demo) == "closed"
    assert set(Directive.objects.values_list("status", flat=True)) == {DirectiveStatus.DONE}
    assert sorted(n["text"] for n in sim.notes) == sorted(d.payload["text"] for d in notes)
