"""The worker in this process: drains directives, runs housekeeping and jobs, stops cleanly."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from hi.integrations.config import lifecycle
from hi.integrations.engine import leases
from hi.integrations.engine.schedule import lease_name
from hi.integrations.engine.worker import WorkerProcess
from hi.integrations.models import Directive, DirectiveStatus, Integration, IntegrationState, JobState, Worker
from hi.integrations.outbox.directives import enqueue
from hi.services.demo.handlers import TOPIC_NOTE

# The worker's heartbeat thread has its own database connection: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def drain(**kwargs) -> WorkerProcess:
    """Run a worker until nothing is due."""
    worker = WorkerProcess(drain=True, poll_s=0.05, **kwargs)
    worker.run()
    return worker


def run_closing(worker: WorkerProcess) -> None:
    """worker.run() in a thread, then close that thread's database connection."""
    try:
        worker.run()
    finally:
        connections.close_all()


def test_a_worker_drains_the_queue_and_records_itself(demo, sim):
    for i in range(5):
        enqueue(demo, TOPIC_NOTE, {"text": f"note {i}"})
    worker = drain()
    assert worker.executed == 5
    assert sorted(n["text"] for n in sim.notes) == [f"note {i}" for i in range(5)]
    row = Worker.objects.get(id=worker.id)
    assert row.stopped_at is not None and row.heartbeat_at is not None


def test_set_up_retries_run_in_the_worker(demo, sim):
    integration = lifecycle.deactivate(demo, "test")
    sim.faults.status = 503
    integration = lifecycle.activate(integration, "test")
    assert integration.state == IntegrationState.SETUP_RETRY
    sim.faults.status = None
    Integration.objects.filter(pk=demo.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    drain()
    demo.refresh_from_db()
    assert demo.state == IntegrationState.ACTIVE
    assert demo.state_changes.filter(actor="worker", to_state="active").exists()


def test_scheduled_jobs_run_for_active_integrations(demo, sim):
    sim.accounts.clear()  # the provider now refuses the key: the health check notices
    worker = drain()
    demo.refresh_from_db()
    assert demo.state == IntegrationState.AUTH_FAILED
    assert JobState.objects.filter(integration=demo, name="health_check", last_run_at__isnull=False).exists()
    # The single-owner sync job ran under this worker's lease, released at shutdown.
    assert JobState.objects.filter(integration=demo, name="sync_items").exists()
    assert leases.holder_of(lease_name(demo, "sync_items")) is None
    assert worker.held_leases == set()


def test_a_single_owner_job_does_not_run_while_another_worker_holds_its_lease(demo, sim):
    leases.acquire(lease_name(demo, "sync_items"), "someone-else")
    drain()
    assert not JobState.objects.filter(integration=demo, name="sync_items").exists()


def test_stopping_finishes_the_running_directive_and_gives_the_rest_back(demo, sim):
    sim.faults.delay_s = 0.3
    for i in range(5):
        enqueue(demo, TOPIC_NOTE, {"text": f"slow {i}"})
    worker = WorkerProcess(batch=5, poll_s=0.05)
    thread = threading.Thread(target=run_closing, args=(worker,))
    thread.start()
    deadline = time.monotonic() + 10
    while not sim.requests_to("/api/v1/notes") and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.request_stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    statuses = sorted(Directive.objects.values_list("status", flat=True))
    assert statuses.count(DirectiveStatus.DONE) == 1 and statuses.count(DirectiveStatus.QUEUED) == 4
    assert set(Directive.objects.filter(status=DirectiveStatus.QUEUED).values_list("attempts", flat=True)) == {0}


def test_housekeeping_prunes_what_is_past_retention(demo, sim, settings):
    from hi.integrations.models import InboundEvent, IntegrationLog, ProviderCall

    settings.HI_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=40)
    note = enqueue(demo, TOPIC_NOTE, {"text": "old"})
    drain()
    Directive.objects.filter(pk=note.pk).update(finished_at=old)
    IntegrationLog.objects.filter(integration=demo).update(at=old)
    ProviderCall.objects.filter(integration=demo).update(at=old)
    inbound = InboundEvent.objects.create(workspace=demo.workspace, integration=demo, status="rejected", http_status=401)
    InboundEvent.objects.filter(pk=inbound.pk).update(received_at=old)
    JobState.objects.filter(name="prune").update(next_run_at=timezone.now())
    drain()
    assert not Directive.objects.filter(pk=note.pk).exists()
    assert not IntegrationLog.objects.filter(integration=demo, at=old).exists()
    assert not ProviderCall.objects.filter(integration=demo, at=old).exists()
    assert not InboundEvent.objects.filter(pk=inbound.pk).exists()

