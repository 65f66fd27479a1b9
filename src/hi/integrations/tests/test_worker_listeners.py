"""The worker holds websocket listeners under a lease; another worker takes over an expired one."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from hi.conftest import demo_attributes
from hi.integrations.config import setup
from hi.integrations.engine import leases
from hi.integrations.engine.websocket import state_of
from hi.integrations.engine.worker import WorkerProcess
from hi.integrations.models import Entity, Lease
from hi.integrations.testing.waiting import wait_for
from hi.integrations.types import IntegrationType
from hi.services.demo.simulator import DemoSimulator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def streaming():
    """A demo provider that pushes item changes over a websocket."""
    sim = DemoSimulator(stream=True).start()
    yield sim
    sim.stop()




def run_closing(worker: WorkerProcess) -> None:
    """worker.run(), then close the thread's connection (the hi_worker command runs in the main thread)."""
    try:
        worker.run()
    finally:
        connections.close_all()


def start(worker: WorkerProcess) -> threading.Thread:
    """Run a worker in a thread (closing that thread's database connection at the end)."""
    thread = threading.Thread(target=run_closing, args=(worker,), daemon=True)
    thread.start()
    return thread


def test_a_listener_runs_on_one_worker_and_moves_when_its_lease_expires(workspace, streaming, settings):
    settings.HI_WORKER_HEARTBEAT_S = 0.2
    integration = setup.add_integration(
        workspace, IntegrationType.DEMO, "Live", demo_attributes(streaming, live_updates="true"), actor="test"
    )
    lease = f"listener:{integration.pk}:items"
    # A worker that died held the lease; it has expired.
    now = timezone.now()
    Lease.objects.create(name=lease, holder="dead-worker", acquired_at=now - timedelta(minutes=1), expires_at=now - timedelta(seconds=1))
    first, second = WorkerProcess(poll_s=0.05), WorkerProcess(poll_s=0.05)
    threads = [start(first)]
    try:
        assert streaming.stream.wait_subscribed(1), "the worker never connected the listener"
        assert leases.holder_of(lease) == first.id
        threads.append(start(second))
        # The second worker does not connect while the first holds the lease.
        time.sleep(1)
        assert streaming.stream.subscriptions == 1
        # Pushed changes reach the entities.
        streaming.update_item("SKU-002", name="Oat milk 2 l")
        assert wait_for(lambda: Entity.objects.filter(integration=integration, external_id="sku-002", name="Oat milk 2 l").exists())
        assert wait_for(lambda: (s := state_of(integration, "items")) is not None and s.state == "connected" and s.worker == first.id)
        # The first worker stops renewing (as if it had died): once the lease expires, the second takes over.
        Lease.objects.filter(name=lease).update(holder="gone", expires_at=timezone.now() - timedelta(seconds=1))
        assert streaming.stream.wait_subscribed(2, timeout=15), "no worker took the listener over"
        assert wait_for(lambda: leases.holder_of(lease) in {first.id, second.id})
        streaming.update_item("SKU-003", name="Paper cups (100)")
        assert wait_for(lambda: Entity.objects.filter(integration=integration, external_id="sku-003", name="Paper cups (100)").exists())
    finally:
        for worker in (first, second):
            worker.request_stop()
        for thread in threads:
            thread.join(timeout=15)
    assert state_of(integration, "items").state == "stopped"
    from django.test import Client

    from hi.conftest import member
    from hi.workspaces.models import Role

    client = Client()
    client.force_login(member(workspace, "watcher", Role.VIEWER))
    page = client.get(integration.get_absolute_url()).content.decode()
    assert "Live connections" in page and 'data-listener-state="stopped"' in page
    assert leases.holder_of(lease) is None  # released at shutdown
