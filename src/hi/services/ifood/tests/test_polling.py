"""Polling against the simulator: N orders placed become exactly N hi orders, every event acknowledged, nothing lost."""
from __future__ import annotations

from decimal import Decimal

import pytest

from hi.integrations.api import InboundEvent, Integration, IntegrationState
from hi.integrations.testing import WorkerProcess, lease_name, leases
from hi.integrations.testing.fakeserver import json_response
from hi.orders.models import Order
from hi.services.ifood import polling
from hi.services.ifood.models import state_of

from .helpers import CLIENT_ID, SECRET, add_ifood, work, work_until

pytestmark = pytest.mark.django_db

POLL = "/events/v1.0/events:polling"
ACK = "/events/v1.0/events/acknowledgment"


def cents(value) -> int:
    """BRL decimal (as the simulator wrote it) → cents, independently of hi's mapping."""
    return int(Decimal(str(value)) * 100)


def all_acknowledged(sim) -> bool:
    """Whether the simulator has nothing left to deliver to the test credential."""
    return not sim.unacked(CLIENT_ID)


def test_placed_orders_become_exactly_as_many_hi_orders_with_exact_totals_despite_duplicates_disorder_and_404s(ifood, ifood_sim):
    """Given duplicates, out-of-order events and 404 after PLC, when the worker polls, then N orders → N hi orders, exact, all acked."""
    # given
    ifood_sim.duplicates = True
    ifood_sim.out_of_order = True
    ifood_sim.details_404_requests = 1
    placed = ifood_sim.place_orders(12)
    # when
    work_until(ifood, lambda: Order.objects.count() == 12 and all_acknowledged(ifood_sim))
    # then
    assert set(Order.objects.values_list("external_id", flat=True)) == set(placed)
    for order in Order.objects.prefetch_related("items"):
        details = ifood_sim.book.get(order.external_id).details
        total = details["total"]
        assert order.source_id == ifood.pk and order.status == "new"
        assert order.total_q == cents(total["orderAmount"]) and order.subtotal_q == cents(total["subTotal"])
        assert order.delivery_fee_q == cents(total["deliveryFee"]) and order.discount_q == cents(total["benefits"])
        assert sum(item.total_q for item in order.items.all()) == order.subtotal_q
        assert order.display_id == details["displayId"]
    assert not ifood_sim.unacked(CLIENT_ID)
    assert {e["id"] for e in ifood_sim.events(CLIENT_ID)} <= set(ifood_sim.acked_ids(CLIENT_ID))
    # Duplicates were stored once: one inbound row per event id.
    ids = list(InboundEvent.objects.filter(integration=ifood).values_list("provider_event_id", flat=True))
    assert len(ids) == len(set(ids))


def test_an_order_whose_totals_do_not_add_up_is_kept_with_the_mismatch_recorded(ifood, ifood_sim):
    """Given an order whose orderAmount is 0.10 more than its parts, then hi keeps iFood's amount and records why."""
    order_id = ifood_sim.place_order(bad_totals=True)
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    order = Order.objects.get(external_id=order_id)
    assert order.total_q == cents(ifood_sim.book.get(order_id).details["total"]["orderAmount"])
    assert order.history.filter(message__contains="orderAmount").exists()


def test_events_are_stored_before_they_are_acknowledged_and_a_failed_ack_loses_nothing(ifood, ifood_sim):
    """Given acknowledgments failing, when polled, then the events are stored, counted as ack failures, and acked later once."""
    # given
    ifood_sim.place_orders(3)
    working_ack = ifood_sim.routes[("POST", ACK)]
    ifood_sim.route("POST", ACK, lambda request: json_response(500, {"error": "down"}))
    # when
    polling.poll(ifood)
    # then
    stored = InboundEvent.objects.filter(integration=ifood).count()
    assert stored == 3 and len(ifood_sim.unacked(CLIENT_ID)) == 3
    assert state_of(ifood).ack_failures == 1 and "500" in state_of(ifood).last_ack_error
    # and when acknowledgments work again, the redelivered events are acknowledged and not stored twice
    ifood_sim.route("POST", ACK, working_ack)
    work_until(ifood, lambda: Order.objects.count() == 3 and all_acknowledged(ifood_sim))
    assert InboundEvent.objects.filter(integration=ifood).count() == 3


def test_codes_hi_does_not_use_are_acknowledged_and_kept_in_the_inbound_log(ifood, ifood_sim):
    """Given a delivery event hi ignores (GTO) and a made-up code, then both are acked and logged, and nothing else changes."""
    order_id = ifood_sim.place_order()
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    merchant = ifood_sim.book.get(order_id).merchant_id
    ifood_sim.emit(order_id, merchant, "GTO")
    ifood_sim.emit(order_id, merchant, "ZZZ")
    work(ifood)
    rows = InboundEvent.objects.filter(integration=ifood, event_type__in=["GTO", "ZZZ"])
    assert sorted(rows.values_list("status", flat=True)) == ["processed", "processed"]
    assert all_acknowledged(ifood_sim)
    assert Order.objects.get(external_id=order_id).status == "new"


def test_polling_asks_for_at_most_100_merchants_per_request(workspace):
    """Given a credential with 150 merchants, when polled, then two requests name 100 and 50 merchants."""
    from hi.services.ifood.simulator import IFoodSimulator

    merchants = [f"00000000-0000-4000-8000-{n:012d}" for n in range(150)]
    with IFoodSimulator(credentials={CLIENT_ID: SECRET}, merchants=merchants) as sim:
        integration = add_ifood(workspace, sim, merchant_ids=",".join(merchants))
        polling.poll(integration)
        sizes = sorted(len(r.headers["x-polling-merchants"].split(",")) for r in sim.requests_to(POLL))
    assert sizes == [50, 100]


def test_the_token_is_reused_and_renewed_after_a_401(ifood, ifood_sim):
    """Given a cached token, when polling twice, then one token request; when iFood drops tokens, then one more and the poll works."""
    token_requests = lambda: len(ifood_sim.requests_to("/authentication/v1.0/oauth/token"))  # noqa: E731
    before = token_requests()
    polling.poll(ifood)
    polling.poll(ifood)
    assert token_requests() == before
    ifood_sim.expire_tokens()
    ifood_sim.place_order()
    polling.poll(ifood)
    assert token_requests() == before + 1
    assert InboundEvent.objects.filter(integration=ifood, event_type="PLC").count() == 1


def test_the_older_events_prefix_is_used_when_configured(workspace, ifood_sim):
    """Given events_prefix /order/v1.0, when polled, then the older paths are called (both are documented)."""
    integration = add_ifood(workspace, ifood_sim, events_prefix="/order/v1.0")
    ifood_sim.place_order()
    polling.poll(integration)
    assert ifood_sim.requests_to("/order/v1.0/events:polling") and ifood_sim.requests_to("/order/v1.0/events/acknowledgment")
    assert not ifood_sim.requests_to(POLL)


def test_the_strike_block_stops_polling_until_it_ends(ifood, ifood_sim):
    """Given iFood answers 429 (throttling), when polled again at once, then hi does not call until the block ends."""
    ifood_sim.route("GET", POLL, lambda request: json_response(
        429, {"code": "429", "message": "Throttling applied."}, {"Retry-After": "300"}
    ))
    with pytest.raises(polling.PollFailed):
        polling.poll(ifood)
    state = state_of(ifood)
    assert state.blocked_until is not None and not state.last_poll_ok
    calls = len(ifood_sim.requests_to(POLL))
    polling.poll(ifood)
    assert len(ifood_sim.requests_to(POLL)) == calls


def test_a_refused_credential_moves_the_integration_to_auth_failed(ifood, ifood_sim):
    """Given iFood now refuses the secret, when the polling job runs, then the operator is asked to re-authenticate."""
    from hi.services.ifood.jobs import poll_events

    ifood_sim.credentials[CLIENT_ID] = "rotated-elsewhere"
    ifood_sim.expire_tokens()
    with pytest.raises(polling.PollFailed):
        poll_events(ifood)
    ifood.refresh_from_db()
    assert ifood.state == IntegrationState.AUTH_FAILED
    assert SECRET not in ifood.reason


def test_webhook_mode_does_not_poll(workspace, ifood_sim):
    """Given event_mode webhook, when the polling job runs, then iFood's queue is not consumed."""
    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    ifood_sim.place_order()
    polling.poll(integration)
    assert not ifood_sim.requests_to(POLL)


@pytest.mark.django_db(transaction=True)
def test_only_the_lease_holder_polls(workspace, ifood_sim, settings):
    """Given another worker holds the polling lease, when this worker runs its jobs, then it does not poll; once free, it does."""
    settings.HI_IFOOD_POLL_INTERVAL_S = 0.01
    integration = add_ifood(workspace, ifood_sim)
    ifood_sim.place_order()
    leases.acquire(lease_name(integration, "poll_events"), "another-worker")
    WorkerProcess(drain=True, poll_s=0.01).run()
    assert not ifood_sim.requests_to(POLL)
    leases.release(lease_name(integration, "poll_events"), "another-worker")
    WorkerProcess(drain=True, poll_s=0.01).run()
    assert ifood_sim.requests_to(POLL)
    assert Integration.objects.get(pk=integration.pk).state == IntegrationState.ACTIVE


def test_details_that_404_for_more_than_ten_minutes_fail_the_fetch_visibly(ifood, ifood_sim):
    """Given details that keep answering 404, when the fetch is retried past 10 minutes after PLC, then its directive fails saying so."""
    from datetime import timedelta

    from django.utils import timezone

    from hi.integrations.api import Directive, DirectiveStatus
    from hi.services.ifood.handlers import TOPIC_FETCH

    ifood_sim.details_404_requests = 10_000
    order_id = ifood_sim.place_order()
    work(ifood, time_travel=False)
    fetch = Directive.objects.get(topic=TOPIC_FETCH)
    assert fetch.status == DirectiveStatus.QUEUED and "404" in fetch.last_error
    Directive.objects.filter(pk=fetch.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    work(ifood)
    fetch.refresh_from_db()
    assert fetch.status == DirectiveStatus.FAILED and "10 minutes" in fetch.last_error
    assert not Order.objects.filter(external_id=order_id).exists()
