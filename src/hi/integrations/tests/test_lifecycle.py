"""The state machine: legal transitions only, classified failures, retry timing, history."""
from __future__ import annotations

import itertools

import pytest

from hi.conftest import demo_attributes
from hi.integrations.config import lifecycle
from hi.integrations.config.lifecycle import TRANSITIONS, retry_delay
from hi.integrations.core.errors import IllegalTransition
from hi.integrations.models import Integration, IntegrationState, StateChange
from hi.integrations.testing.fakeserver import json_response

S = IntegrationState
pytestmark = pytest.mark.django_db


def at_state(integration: Integration, state: IntegrationState) -> Integration:
    """Force a state directly in the database (test set-up only)."""
    Integration.objects.filter(pk=integration.pk).update(state=state)
    integration.refresh_from_db()
    return integration


@pytest.mark.parametrize("from_state,to_state", list(itertools.product(S, S)))
def test_only_declared_transitions_are_possible(demo, from_state, to_state):
    integration = at_state(demo, from_state)
    before = StateChange.objects.count()
    if to_state in TRANSITIONS[from_state]:
        lifecycle.transition(integration, to_state, "why", "test")
        assert integration.state == to_state
        change = StateChange.objects.latest("id")
        assert (change.from_state, change.to_state, change.reason, change.actor) == (from_state, to_state, "why", "test")
    else:
        with pytest.raises(IllegalTransition):
            lifecycle.transition(integration, to_state, "why", "test")
        integration.refresh_from_db()
        assert integration.state == from_state
        assert StateChange.objects.count() == before


def test_every_state_has_a_way_out(demo):
    assert all(TRANSITIONS[state] for state in S)


def test_a_stale_copy_cannot_overwrite_a_concurrent_change(demo):
    stale = Integration.objects.get(pk=demo.pk)
    lifecycle.pause(demo, "first")
    with pytest.raises(IllegalTransition):
        lifecycle.deactivate(stale, "second")
    demo.refresh_from_db()
    assert demo.state == S.PAUSED


def test_retry_delays_follow_home_assistant(demo):
    bases = [int(retry_delay(tries)) for tries in range(7)]
    assert bases == [5, 10, 20, 40, 80, 80, 80]
    assert all(0 <= retry_delay(2) - 20 <= 1 for _ in range(20))


def test_not_ready_records_the_next_attempt_and_backs_off(demo, sim):
    integration = lifecycle.deactivate(demo, "test")
    sim.faults.status = 503
    first = lifecycle.activate(integration, "test")
    assert first.state == S.SETUP_RETRY and first.retry_count == 1
    gap1 = (first.next_attempt_at - first.updated_at).total_seconds()
    second = lifecycle.activate(first, "test")
    gap2 = (second.next_attempt_at - second.updated_at).total_seconds()
    assert second.retry_count == 2
    assert 4 <= gap1 <= 6.5 and 9 <= gap2 <= 11.5
    sim.faults.status = None
    recovered = lifecycle.activate(second, "test")
    assert recovered.state == S.ACTIVE and recovered.retry_count == 0 and recovered.next_attempt_at is None


def test_retry_due_runs_only_integrations_whose_time_has_come(demo, sim):
    from datetime import timedelta

    from django.utils import timezone

    integration = lifecycle.deactivate(demo, "test")
    sim.faults.status = 503
    integration = lifecycle.activate(integration, "test")
    assert lifecycle.retry_due(now=timezone.now()) == []
    sim.faults.status = None
    [retried] = lifecycle.retry_due(now=integration.next_attempt_at + timedelta(seconds=1))
    assert retried.state == S.ACTIVE


@pytest.mark.parametrize(
    "answer,state,reason_part",
    [
        (json_response(503, {"error": "maintenance"}), S.SETUP_RETRY, "server error"),
        (json_response(401, {"error": "revoked"}), S.AUTH_FAILED, "credentials refused"),
        (json_response(400, {"error": "account closed"}), S.SETUP_ERROR, "account closed"),
        (json_response(200, ["not", "an", "object"]), S.SETUP_ERROR, "Unexpected error"),
    ],
)
def test_activation_failures_are_classified(demo, sim, answer, state, reason_part):
    integration = lifecycle.deactivate(demo, "test")
    sim.route("GET", "/api/v1/account", lambda request: answer)
    integration = lifecycle.activate(integration, "test")
    assert integration.state == state
    assert reason_part in integration.reason
    assert integration.logs.filter(level__in=["warning", "error"]).exists()


def test_a_failing_deactivation_is_failed_deactivate_and_can_be_retried(demo, sim):
    sim.faults.status = 503
    integration = lifecycle.deactivate(demo, "test")
    assert integration.state == S.FAILED_DEACTIVATE
    assert "server error" in integration.reason
    with pytest.raises(IllegalTransition):
        lifecycle.remove(integration, "test")
    assert Integration.objects.filter(pk=integration.pk).exists()
    sim.faults.status = None
    assert lifecycle.deactivate(integration, "test").state == S.DISABLED


def test_remove_with_force_ignores_a_failing_deactivation(demo, sim):
    sim.faults.status = 503
    lifecycle.remove(demo, "test", force=True)
    assert not Integration.objects.filter(pk=demo.pk).exists()


def test_activation_and_deactivation_tell_the_provider(demo, sim):
    assert sim.connections == {"acct-demo": "connected"}
    lifecycle.deactivate(demo, "test")
    assert sim.connections == {"acct-demo": "disconnected"}


def test_resume_rechecks_the_provider(demo, sim):
    paused = lifecycle.pause(demo, "test")
    sim.faults.status = 503
    resumed = lifecycle.resume(paused, "test")
    assert resumed.state == S.SETUP_RETRY


def test_history_is_append_only_and_names_who_and_why(demo):
    lifecycle.pause(demo, "olivia")
    lifecycle.resume(demo, "olivia")
    changes = list(demo.state_changes.order_by("id").values_list("from_state", "to_state", "actor"))
    assert changes[-3:] == [("active", "paused", "olivia"), ("paused", "activating", "olivia"), ("activating", "active", "olivia")]


def test_remove_keeps_edited_entities_unless_asked(workspace, sim):
    from hi.integrations.config import setup
    from hi.integrations.config.entities import rename_entity
    from hi.integrations.models import Entity
    from hi.integrations.types import IntegrationType

    first = setup.add_integration(workspace, IntegrationType.DEMO, "A", demo_attributes(sim), actor="test")
    rename_entity(first.entities.first(), "Our beans")
    lifecycle.remove(first, "test")
    assert list(Entity.objects.values_list("name", "integration", "detached")) == [("Our beans", None, True)]
    second = setup.add_integration(workspace, IntegrationType.DEMO, "B", demo_attributes(sim), actor="test")
    rename_entity(second.entities.first(), "Edited too")
    lifecycle.remove(second, "test", delete_entities=True)
    assert not Entity.objects.filter(name="Edited too").exists()


def test_an_activation_interrupted_by_a_dead_process_can_be_recovered(demo):
    from datetime import timedelta

    Integration.objects.filter(pk=demo.pk).update(state=S.ACTIVATING)
    demo.refresh_from_db()
    with pytest.raises(IllegalTransition):
        lifecycle.activate(demo, "test")  # still running, as far as anyone can tell
    Integration.objects.filter(pk=demo.pk).update(updated_at=demo.updated_at - lifecycle.INTERRUPTED_AFTER - timedelta(seconds=1))
    demo.refresh_from_db()
    assert lifecycle.activate(demo, "test").state == S.ACTIVE
    assert demo.state_changes.filter(from_state=S.ACTIVATING, to_state=S.SETUP_ERROR, reason__contains="interrupted").exists()


def test_a_deactivation_interrupted_by_a_dead_process_can_be_removed(demo):
    from datetime import timedelta

    old = demo.updated_at - lifecycle.INTERRUPTED_AFTER - timedelta(minutes=1)
    Integration.objects.filter(pk=demo.pk).update(state=S.DEACTIVATING, updated_at=old)
    demo.refresh_from_db()
    lifecycle.remove(demo, "test")
    assert not Integration.objects.filter(pk=demo.pk).exists()


@pytest.mark.parametrize(
    "path,answer",
    [
        ("/api/v1/account", json_response(429, {"error": "slow down"}, {"Retry-After": "30"})),
        ("/api/v1/items", json_response(503, {"error": "catalog down"})),
    ],
)
def test_rate_limits_and_a_failing_first_sync_are_temporary(demo, sim, path, answer):
    integration = lifecycle.deactivate(demo, "test")
    sim.route("GET", path, lambda request: answer)
    assert lifecycle.activate(integration, "test").state == S.SETUP_RETRY
