"""Real worker processes: one consumer per credential, and a worker killed mid-poll loses and duplicates nothing."""
from __future__ import annotations

import signal
import time

import pytest

from hi.integrations.api import InboundEvent
from hi.integrations.testing import processes
from hi.integrations.testing.fakeserver import json_response
from hi.integrations.testing.waiting import wait_for
from hi.orders.models import Order

from .helpers import CLIENT_ID, add_ifood

# Worker subprocesses only see committed rows: the test database must really commit.
pytestmark = pytest.mark.django_db(transaction=True)
POLL = "/events/v1.0/events:polling"
ACK = "/events/v1.0/events/acknowledgment"
#: The first worker's acknowledgment hangs this long, so the test kills it before it completes.
SLOW_ACK_S = 3.0


@pytest.fixture
def start_worker():
    """Start `manage.py hi_worker` subprocesses polling every 0.3 s; kill leftovers at teardown."""
    with processes.worker_pool(env={"HI_IFOOD_POLL_INTERVAL_S": "0.3"}) as start:
        yield start


def done(sim, count: int) -> bool:
    """Every placed order exists in hi and the simulator has nothing left to deliver."""
    return Order.objects.count() == count and not sim.unacked(CLIENT_ID)


def test_two_workers_on_one_credential_poll_through_one_consumer(workspace, ifood_sim, start_worker):
    """Given two workers, when orders are placed, then every poll comes from one worker (one token) and no order is doubled."""
    integration = add_ifood(workspace, ifood_sim)
    ifood_sim.place_orders(6)
    start_worker()
    start_worker()
    assert wait_for(lambda: done(ifood_sim, 6), 40), "the orders never all arrived"
    ifood_sim.place_orders(4)
    assert wait_for(lambda: done(ifood_sim, 10), 40), "the later orders never all arrived"
    # Each worker process gets its own token: polls carrying one token come from one process.
    tokens = {r.headers.get("authorization") for r in ifood_sim.requests_to(POLL)}
    assert len(tokens) == 1
    assert Order.objects.filter(source=integration).values("external_id").distinct().count() == 10


def test_a_worker_killed_between_storing_and_acknowledging_loses_and_duplicates_nothing(workspace, ifood_sim, start_worker):
    """Given duplicates, disorder and 404s, when a worker dies mid-poll (stored, not acked), its successor ends with N orders, all acked."""
    # given
    integration = add_ifood(workspace, ifood_sim)
    ifood_sim.duplicates = True
    ifood_sim.out_of_order = True
    ifood_sim.details_404_requests = 1
    placed = set(ifood_sim.place_orders(8))
    fast_ack = ifood_sim.routes[("POST", ACK)]

    def lost_ack(request):
        """An acknowledgment that never arrives."""
        # The worker dies before its acknowledgment reaches iFood: nothing is acknowledged.
        time.sleep(SLOW_ACK_S)
        return json_response(503, {"error": "never arrived"})

    ifood_sim.route("POST", ACK, lost_ack)
    # when: the first worker stores the polled events and is killed while acknowledging them
    first = start_worker()
    assert wait_for(lambda: ifood_sim.requests_to(ACK), 30), "the first worker never acknowledged"
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    stored = InboundEvent.objects.filter(integration=integration, event_type="PLC").count()
    polls_before = len(ifood_sim.requests_to(POLL))
    assert stored == 8 and len(ifood_sim.unacked(CLIENT_ID)) >= 8
    # then: a second worker takes the polling lease over (once it expires), gets the same events
    # again, stores none twice, acknowledges them all and creates every order once
    ifood_sim.route("POST", ACK, fast_ack)
    start_worker()
    assert wait_for(lambda: done(ifood_sim, 8), 60), "the second worker did not finish the work"
    assert len(ifood_sim.requests_to(POLL)) > polls_before
    assert InboundEvent.objects.filter(integration=integration, event_type="PLC").count() == 8
    assert set(Order.objects.values_list("external_id", flat=True)) == placed
    ids = list(InboundEvent.objects.filter(integration=integration).values_list("provider_event_id", flat=True))
    assert len(ids) == len(set(ids))
