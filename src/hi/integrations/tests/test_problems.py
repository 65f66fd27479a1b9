"""Health problems: a job failing again and again shows the integration as Degraded, in words, until it succeeds."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from hi.integrations.console.diagnostics import build_diagnostics
from hi.integrations.console.problems import DEGRADED_AFTER, problems
from hi.integrations.engine.worker import WorkerProcess
from hi.integrations.models import InboundEvent, JobState

# The worker's heartbeat thread has its own database connection: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def run_health_check(integration, times: int) -> None:
    """Let the worker run the demo's health-check job `times` times (each run made due at once)."""
    for _ in range(times):
        JobState.objects.filter(integration=integration, name="health_check").update(next_run_at=timezone.now())
        WorkerProcess(drain=True, poll_s=0.05).run()


def integration_list(workspace) -> list[dict]:
    """`manage.py integration list --json` for the workspace."""
    out = io.StringIO()
    call_command("integration", "list", "--json", "--workspace", workspace.slug, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def failing(demo, sim, settings):
    """The demo integration whose provider now answers every call with 503 (the breaker kept out of it)."""
    settings.HI_BREAKER_FAIL_MAX = 1000
    sim.faults.status = 503
    return demo


def test_a_job_failing_three_times_in_a_row_shows_the_integration_degraded_with_the_error_everywhere(failing, workspace, operator_client):
    """Given the health check failing DEGRADED_AFTER times, then card, state region, CLI and diagnostics say Degraded and why."""
    # given two failures: not yet degraded (one bad minute is not a problem)
    run_health_check(failing, DEGRADED_AFTER - 1)
    assert problems(failing) == []
    # when it fails once more
    run_health_check(failing, 1)
    # then
    found = problems(failing)
    assert [p.code for p in found] == ["job_failing"]
    message = found[0].message
    assert f"failed {DEGRADED_AFTER} times in a row" in message and "503" in message and "health check" in message.lower()
    card = operator_client.get("/").content.decode()
    assert "Degraded" in card and "failed 3 times in a row" in card
    region = operator_client.get(failing.get_absolute_url() + "?region=state", headers={"HX-Request": "true"}).content.decode()
    assert 'data-health="degraded"' in region and "503" in region
    summary = next(s for s in integration_list(workspace) if s["id"] == str(failing.pk))
    assert summary["state"] == "active" and summary["health"] == "degraded"
    assert summary["problems"][0]["code"] == "job_failing" and "503" in summary["problems"][0]["message"]
    assert build_diagnostics(failing)["problems"][0]["code"] == "job_failing"


def test_the_next_success_clears_degraded(failing, sim, workspace, operator_client):
    """Given a degraded integration, when the job succeeds once, then no problem is left and the card says nothing."""
    run_health_check(failing, DEGRADED_AFTER)
    assert problems(failing)
    sim.faults.status = None
    run_health_check(failing, 1)
    assert problems(failing) == []
    assert JobState.objects.get(integration=failing, name="health_check").consecutive_failures == 0
    assert "Degraded" not in operator_client.get("/").content.decode()
    assert next(s for s in integration_list(workspace) if s["id"] == str(failing.pk))["health"] == "ok"


def test_failed_events_are_counted_in_the_health_region_without_degrading(demo, operator_client):
    """Given two failed inbound events today and one of last week, then the health region counts 2; the card is not Degraded."""
    for age_days in (0, 0, 8):
        row = InboundEvent.objects.create(
            workspace=demo.workspace, integration=demo, status="failed", http_status=200, reason="could not be read: x"
        )
        InboundEvent.objects.filter(pk=row.pk).update(received_at=timezone.now() - timezone.timedelta(days=age_days))
    health = operator_client.get(demo.get_absolute_url() + "?region=health", headers={"HX-Request": "true"}).content.decode()
    assert 'data-stat="failed-events">2<' in health
    assert [p.code for p in problems(demo)] == ["failed_events"] and not problems(demo)[0].degrades
    assert "Degraded" not in operator_client.get("/").content.decode()


def test_a_paused_integration_shows_no_problems(failing):
    """Given job failures recorded before a pause, then a paused integration is not called degraded (nothing runs)."""
    from hi.integrations.config import lifecycle

    run_health_check(failing, DEGRADED_AFTER)
    lifecycle.pause(failing, "test")
    failing.refresh_from_db()
    assert problems(failing) == []
