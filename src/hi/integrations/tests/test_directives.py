"""Directives: written with their cause, deduplicated, retried on schedule, waiting, operator actions."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from hi.integrations.config import lifecycle
from hi.integrations.contract.declarations import DirectiveHandler
from hi.integrations.core.errors import DirectiveActionRefused
from hi.integrations.engine import directive_actions, execution
from hi.integrations.engine.execution import claim, execute
from hi.integrations.models import BreakerState, Directive, DirectiveAttempt, DirectiveStatus, IntegrationState
from hi.integrations.outbox import directives
from hi.integrations.outbox.directives import enqueue
from hi.integrations.testing.fakeserver import json_response
from hi.services.demo.handlers import TOPIC_NOTE

pytestmark = pytest.mark.django_db
S = DirectiveStatus


def run_due(worker: str = "w1") -> list[str]:
    """Claim and execute everything due now, as one worker would."""
    return [execute(d, worker) for d in claim(worker, 50)]


def note(demo, text: str = "hello", **kwargs) -> Directive:
    """Queue a note directive."""
    return enqueue(demo, TOPIC_NOTE, {"text": text}, **kwargs)


def test_a_rolled_back_change_leaves_no_directive(demo):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            note(demo)
            raise RuntimeError("the causing change failed")
    assert not Directive.objects.exists()


def test_a_directive_is_delivered_and_its_attempt_recorded(demo, sim):
    directive = note(demo, "first note")
    assert run_due() == [S.DONE]
    directive.refresh_from_db()
    assert directive.status == S.DONE and directive.attempts == 1 and directive.finished_at
    assert [n["text"] for n in sim.notes] == ["first note"]
    attempt = directive.attempt_rows.get()
    assert attempt.outcome == DirectiveAttempt.Outcome.DONE and attempt.duration_ms is not None and attempt.worker == "w1"


def test_executing_twice_stores_the_note_once(demo, sim):
    directive = note(demo)
    [claimed] = claim("w1")
    execute(claimed, "w1")
    execute(claimed, "w1")  # at-least-once delivery: the handler is idempotent
    assert len(sim.notes) == 1 and len(sim.requests_to("/api/v1/notes")) == 2
    assert directive.attempt_rows.count() == 2


def test_no_two_live_directives_share_a_dedupe_key(demo, sim):
    first = note(demo, dedupe_key="k1")
    assert note(demo, "other text", dedupe_key="k1").pk == first.pk
    run_due()
    assert note(demo, dedupe_key="k1").pk != first.pk  # the first one is finished


def test_an_unknown_topic_is_refused_at_enqueue(demo):
    with pytest.raises(ValueError, match="No handler"):
        enqueue(demo, "nobody.handles_this", {})


def test_a_transient_failure_is_retried_on_the_schedule(demo, sim):
    directive = note(demo)
    sim.faults.status = 503
    assert run_due() == [S.QUEUED]
    directive.refresh_from_db()
    # updated_at and next_run_at are written together: their gap is the wait the engine chose.
    wait = (directive.next_run_at - directive.updated_at).total_seconds()
    assert 4 <= wait <= 6 and directive.attempts == 1 and "HTTP 503" in directive.last_error
    assert directive.attempt_rows.get().outcome == DirectiveAttempt.Outcome.RETRY
    Directive.objects.filter(pk=directive.pk).update(next_run_at=timezone.now())
    run_due()
    directive.refresh_from_db()
    second_wait = (directive.next_run_at - directive.updated_at).total_seconds()
    assert 24 <= second_wait <= 36  # 30 s ± 20 %


def test_past_max_attempts_the_directive_is_dead(demo, sim):
    directive = note(demo, max_attempts=2)
    sim.faults.status = 503
    run_due()
    Directive.objects.filter(pk=directive.pk).update(next_run_at=timezone.now())
    assert run_due() == [S.DEAD]
    directive.refresh_from_db()
    assert directive.status == S.DEAD and directive.attempts == 2


def test_a_rejected_request_fails_at_once(demo, sim):
    sim.route("POST", "/api/v1/notes", lambda r: json_response(422, {"error": "note too rude"}))
    directive = note(demo)
    assert run_due() == [S.FAILED]
    directive.refresh_from_db()
    assert "note too rude" in directive.last_error


def test_retry_after_is_honoured(demo, sim):
    sim.route("POST", "/api/v1/notes", lambda r: json_response(429, {"error": "slow"}, {"Retry-After": "120"}))
    directive = note(demo)
    run_due()
    directive.refresh_from_db()
    assert (directive.next_run_at - timezone.now()).total_seconds() >= 115


def test_refused_credentials_mark_the_integration_and_the_directive_waits(demo, sim):
    directive = note(demo)
    sim.accounts.clear()
    assert run_due() == [S.QUEUED]
    demo.refresh_from_db()
    directive.refresh_from_db()
    assert demo.state == IntegrationState.AUTH_FAILED
    assert directive.attempts == 0 and directive.attempt_rows.get().outcome == DirectiveAttempt.Outcome.WAITING


def test_directives_of_a_paused_integration_wait_and_are_not_dropped(demo, sim):
    lifecycle.pause(demo, "test")
    directive = note(demo)
    assert run_due() == []
    lifecycle.resume(demo, "test")
    assert run_due() == [S.DONE]
    directive.refresh_from_db()
    assert directive.status == S.DONE


def test_directives_wait_while_the_breaker_is_open(demo, sim):
    BreakerState.objects.create(integration=demo, state=BreakerState.State.OPEN, opened_at=timezone.now())
    note(demo)
    assert run_due() == []
    BreakerState.objects.filter(integration=demo).update(state=BreakerState.State.CLOSED)
    assert run_due() == [S.DONE]


def test_two_claims_never_take_the_same_directive(demo):
    for i in range(5):
        note(demo, f"n{i}")
    first, second = claim("a", 3), claim("b", 10)
    assert len(first) == 3 and len(second) == 2
    assert not {d.pk for d in first} & {d.pk for d in second}


def test_a_lane_claims_one_integrations_directives_oldest_due_first(demo, sim, other_workspace):
    from hi.conftest import demo_attributes
    from hi.integrations.config.setup import add_integration
    from hi.integrations.types import IntegrationType

    other = add_integration(other_workspace, IntegrationType.DEMO, "Other", demo_attributes(sim, sync_on_activate="false"), actor="test")
    Directive.objects.all().delete()
    earlier = timezone.now() - timedelta(minutes=1)
    mine = [note(demo, f"n{i}", run_at=earlier) for i in range(3)]
    theirs = [note(other, f"o{i}") for i in range(2)]
    lane = execution.claim_lane("w", 2)
    assert [d.pk for d in lane] == [d.pk for d in mine[:2]]  # the oldest due integration, up to the limit
    # An integration the worker runs its limit of is left out; the size may follow the integration.
    lane = execution.claim_lane("w", lambda integration_id: 5 if integration_id == other.pk else 1, busy={demo.pk})
    assert [d.pk for d in lane] == [d.pk for d in theirs]
    assert execution.claim_lane("w", 5, busy={demo.pk, other.pk}) == []
    assert execution.give_back(lane, "w") == 2
    assert set(Directive.objects.filter(pk__in=[d.pk for d in theirs]).values_list("status", "attempts")) == {(S.QUEUED, 0)}


def test_directives_of_a_dead_worker_are_requeued(demo, sim):
    directive = note(demo)
    claim("ghost")
    Directive.objects.filter(pk=directive.pk).update(claimed_at=timezone.now() - timedelta(seconds=30))
    assert execution.requeue_interrupted(live_workers={"alive"}) == 1
    directive.refresh_from_db()
    assert directive.status == S.QUEUED and "ghost" in directive.last_error
    assert directive.attempt_rows.get().outcome == DirectiveAttempt.Outcome.INTERRUPTED
    assert run_due() == [S.DONE]


def test_operator_actions(demo, sim):
    sim.faults.status = 503
    dead = note(demo, "dead one", max_attempts=1)
    run_due()
    dead.refresh_from_db()
    assert dead.status == S.DEAD
    with pytest.raises(DirectiveActionRefused):
        directive_actions.replay(dead)
    sim.faults.status = None
    directive_actions.retry_now(dead)
    assert run_due() == [S.DONE]
    dead.refresh_from_db()
    copy = directive_actions.replay(dead)
    assert copy.replay_of == dead and copy.status == S.QUEUED
    directive_actions.cancel(copy)
    assert run_due() == [] and Directive.objects.get(pk=copy.pk).status == S.CANCELLED
    with pytest.raises(DirectiveActionRefused):
        directive_actions.cancel(dead)


def test_a_503_with_retry_after_waits_at_least_that_long(demo, sim):
    sim.route("POST", "/api/v1/notes", lambda r: json_response(503, {"error": "maintenance"}, {"Retry-After": "90"}))
    directive = note(demo)
    run_due()
    directive.refresh_from_db()
    assert (directive.next_run_at - timezone.now()).total_seconds() >= 85


@pytest.mark.parametrize(
    "error", [OverflowError("Python int too large to convert to SQLite INTEGER"), RecursionError("maximum recursion depth exceeded")]
)
def test_a_handler_failing_on_data_that_cannot_be_stored_fails_at_once_without_a_traceback(demo, caplog, error):
    """Given a handler whose data overflows a column or nests too deep, then the directive fails on its first attempt (no retries)."""
    def store_too_much(directive):
        """A handler failing with the data that cannot be stored."""
        raise error

    directives.register(DirectiveHandler("test.too_much", store_too_much))
    directive = enqueue(demo, "test.too_much", {})
    assert run_due() == [S.FAILED]
    directive.refresh_from_db()
    assert directive.attempts == 1 and type(error).__name__ in directive.last_error
    assert "Traceback" not in caplog.text
