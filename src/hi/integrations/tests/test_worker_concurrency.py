"""One worker, several integrations: a slow provider never holds up another integration's work."""
from __future__ import annotations

import signal
import threading
from collections import Counter

import pytest
from django.db import connections

from hi.conftest import demo_attributes
from hi.integrations.config import setup
from hi.integrations.engine.worker import WorkerProcess
from hi.integrations.models import Directive, DirectiveAttempt, DirectiveStatus, Integration, JobState
from hi.integrations.outbox.directives import enqueue
from hi.integrations.testing.gate import Gate
from hi.integrations.testing.processes import worker_pool
from hi.integrations.testing.waiting import wait_for
from hi.integrations.types import IntegrationType
from hi.services.demo.handlers import TOPIC_NOTE
from hi.services.demo.simulator import DemoSimulator
from hi.workspaces.models import Workspace

# The worker runs in other threads (and processes) with their own connections: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sims():
    """Start demo simulators on demand; all are stopped at the end."""
    started: list[DemoSimulator] = []

    def start() -> DemoSimulator:
        """Start a simulator, stopped when the test ends."""
        sim = DemoSimulator().start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def integration_in(slug: str, sim: DemoSimulator) -> Integration:
    """An active demo integration in a workspace of its own, against `sim`, with nothing queued."""
    workspace = Workspace.objects.create(slug=slug, name=f"Workspace {slug}")
    integration = setup.add_integration(
        workspace, IntegrationType.DEMO, f"Shop {slug}", demo_attributes(sim, sync_on_activate="false"), actor="test"
    )
    return integration


def hold_notes(sim: DemoSimulator) -> Gate:
    """From now on the simulator holds every note until the gate opens."""
    gate = Gate(sim.add_note)
    sim.route("POST", "/api/v1/notes", gate)
    return gate


def note(integration: Integration, text: str) -> Directive:
    """Queue a note directive."""
    return enqueue(integration, TOPIC_NOTE, {"text": text})


def status(directive: Directive) -> str:
    """The directive's status as stored now."""
    return Directive.objects.values_list("status", flat=True).get(pk=directive.pk)


class Running:
    """A WorkerProcess in a thread of this process, stopped (and joined) at the end."""

    def __init__(self, **options) -> None:
        """A worker with `options`, polling fast, in a thread not yet started."""
        self.worker = WorkerProcess(poll_s=0.05, **options)
        self.thread = threading.Thread(target=self._run, name="test-worker")

    def _run(self) -> None:
        """Run the worker, then close the thread's connections."""
        try:
            self.worker.run()
        finally:
            connections.close_all()

    def __enter__(self) -> "Running":
        """Start the worker's thread."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Ask the worker to stop and wait for it."""
        self.worker.request_stop()
        self.thread.join(timeout=60)


def test_a_slow_provider_does_not_hold_up_another_workspaces_directive(sims):
    slow_sim, quick_sim = sims(), sims()
    slow, quick = integration_in("slow", slow_sim), integration_in("quick", quick_sim)
    gate = hold_notes(slow_sim)
    held = note(slow, "to the slow provider")
    with Running(concurrency=4, per_integration=1):
        try:
            assert wait_for(lambda: gate.in_flight == 1, 30), "the slow directive never reached its provider"
            later = note(quick, "queued while the slow one runs")
            assert wait_for(lambda: status(later) == DirectiveStatus.DONE, 30)
            # Done while the slow provider still holds the first directive's call.
            assert status(held) == DirectiveStatus.RUNNING and gate.in_flight == 1
            assert not DirectiveAttempt.objects.filter(directive=held).exists()
        finally:
            gate.open()
        assert wait_for(lambda: status(held) == DirectiveStatus.DONE, 30)
    assert [n["text"] for n in quick_sim.notes] == ["queued while the slow one runs"]
    assert [n["text"] for n in slow_sim.notes] == ["to the slow provider"]


def test_no_more_than_the_per_integration_limit_of_one_integration_runs_at_once(sims):
    slow_sim, quick_sim = sims(), sims()
    slow, quick = integration_in("slow", slow_sim), integration_in("quick", quick_sim)
    gate = hold_notes(slow_sim)
    for i in range(6):
        note(slow, f"slow {i}")
    with Running(concurrency=4, per_integration=2):
        try:
            assert wait_for(lambda: gate.in_flight == 2, 30)
            other = note(quick, "other workspace")
            # Two slots were still free: the other integration's directive ran, the slow one's third did not start.
            assert wait_for(lambda: status(other) == DirectiveStatus.DONE, 30)
            assert gate.arrived == 2 and gate.max_in_flight == 2
            unstarted = Directive.objects.filter(integration=slow, status=DirectiveStatus.QUEUED, attempts=0).count()
            assert unstarted == 4  # not claimed while they could not start
        finally:
            gate.open()
        assert wait_for(lambda: Directive.objects.filter(integration=slow, status=DirectiveStatus.DONE).count() == 6, 60)
    assert gate.max_in_flight == 2 and gate.arrived == 6


def test_a_slow_scheduled_job_does_not_hold_up_another_integrations_directive(sims):
    slow_sim, quick_sim = sims(), sims()
    slow, quick = integration_in("slow", slow_sim), integration_in("quick", quick_sim)
    # The demo's health check (GET /api/v1/account) runs as soon as a worker sees the integration.
    gate = Gate(slow_sim.account)
    slow_sim.route("GET", "/api/v1/account", gate)
    with Running(concurrency=4, per_integration=1):
        try:
            assert wait_for(lambda: gate.in_flight == 1, 30), "the slow integration's health check never started"
            other = note(quick, "while the health check hangs")
            assert wait_for(lambda: status(other) == DirectiveStatus.DONE, 30)
            job = JobState.objects.get(integration=slow, name="health_check")
            assert job.last_duration_ms is None and gate.in_flight == 1  # the job is still running
        finally:
            gate.open()
        assert wait_for(lambda: JobState.objects.get(integration=slow, name="health_check").last_duration_ms is not None, 30)


def test_stopping_finishes_every_running_directive_and_starts_no_other(sims):
    sim = sims()
    gate = hold_notes(sim)
    integrations = [integration_in(f"shop-{i}", sim) for i in range(3)]
    for integration in integrations:
        note(integration, f"first of {integration.pk}")
        note(integration, f"second of {integration.pk}")
    running = Running(concurrency=4, per_integration=1)
    with running:
        try:
            assert wait_for(lambda: gate.in_flight == 3, 30)
            running.worker.request_stop()
            # It waits for the three running directives: nothing is cut short.
            assert not wait_for(lambda: not running.thread.is_alive(), 1)
        finally:
            gate.open()
        running.thread.join(timeout=60)
        assert not running.thread.is_alive()
    statuses = Counter(Directive.objects.values_list("status", flat=True))
    assert statuses == {DirectiveStatus.DONE: 3, DirectiveStatus.QUEUED: 3}
    assert set(Directive.objects.filter(status=DirectiveStatus.QUEUED).values_list("attempts", flat=True)) == {0}
    assert gate.arrived == 3 and len(sim.notes) == 3


def test_a_killed_workers_running_directives_are_reaped_and_run_again(sims):
    sim = sims()
    gate = hold_notes(sim)
    integrations = [integration_in(f"shop-{i}", sim) for i in range(3)]
    directives = [note(integration, f"note of {integration.pk}") for integration in integrations]
    with worker_pool() as start:
        first = start("--concurrency", "4", "--per-integration", "1")
        try:
            assert wait_for(lambda: gate.in_flight == 3, 60), "the worker never ran three directives at once"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert Counter(Directive.objects.values_list("status", flat=True)) == {DirectiveStatus.RUNNING: 3}
        gate.open()
        second = start("--drain")
        output, _ = second.communicate(timeout=120)
        assert second.returncode == 0, output
    assert Counter(Directive.objects.values_list("status", flat=True)) == {DirectiveStatus.DONE: 3}
    for directive in directives:
        outcomes = list(DirectiveAttempt.objects.filter(directive=directive).order_by("number").values_list("outcome", flat=True))
        assert outcomes == [DirectiveAttempt.Outcome.INTERRUPTED, DirectiveAttempt.Outcome.DONE]
    assert len(sim.notes) == 3  # the idempotency key kept the provider from storing one twice
