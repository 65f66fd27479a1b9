"""Order actions: each is a directive, iFood answers 202, and the order changes only when iFood's event arrives."""
from __future__ import annotations

import pytest

from hi.integrations.api import Directive, get_integration_gateway
from hi.orders.models import Order
from hi.orders.sources import OrderActionRefused
from hi.services.ifood.handlers import TOPIC_ACTION

from .helpers import run_directives, work, work_until

pytestmark = pytest.mark.django_db


def placed(integration, sim, **options) -> Order:
    """An order placed in the simulator and created in hi."""
    order_id = sim.place_order(**options)
    work_until(integration, lambda: Order.objects.filter(external_id=order_id).exists())
    return Order.objects.get(external_id=order_id)


def act(integration, order: Order, action: str, **params) -> Order:
    """The operator's action, through the gateway as the console and the CLI call it."""
    order.refresh_from_db()
    get_integration_gateway(integration.integration_type).perform_order_action(integration, order, action, params, actor="olivia")
    order.refresh_from_db()
    return order


def keys(integration, order: Order) -> list[str]:
    """The actions the gateway offers for the order now."""
    order.refresh_from_db()
    return [a.key for a in get_integration_gateway(integration.integration_type).order_actions(integration, order)]


def test_confirm_waits_for_ifood_then_the_cfm_event_confirms_the_order(ifood, ifood_sim):
    """Given a new order, when confirmed, then it waits for iFood; once CFM arrives it is confirmed."""
    order = placed(ifood, ifood_sim)
    assert keys(ifood, order) == ["confirm", "request_cancellation"]
    # when
    order = act(ifood, order, "confirm")
    # then: queued, waiting, no other action offered meanwhile
    assert order.awaiting_label == "Confirm" and order.status == "new"
    assert Directive.objects.filter(topic=TOPIC_ACTION, payload__action="confirm").count() == 1
    assert keys(ifood, order) == []
    run_directives()
    assert ifood_sim.requests_to(f"/order/v1.0/orders/{order.external_id}/confirm")
    order.refresh_from_db()
    assert order.status == "new" and order.awaiting_label  # 202 is not the outcome
    work(ifood)
    order.refresh_from_db()
    assert order.status == "confirmed" and order.awaiting_label == ""
    assert order.history.filter(new_status="confirmed", actor="ifood").exists()


def test_a_merchant_delivery_goes_through_every_status_to_completed(ifood, ifood_sim):
    """Given the store delivers, when the operator confirms, prepares, readies and dispatches, and iFood concludes, then completed."""
    order = placed(ifood, ifood_sim, order_type="DELIVERY", delivered_by="MERCHANT")
    for action, status in [
        ("confirm", "confirmed"), ("start_preparation", "preparing"), ("ready_to_pickup", "ready"), ("dispatch", "dispatched")
    ]:
        assert action in keys(ifood, order)
        act(ifood, order, action)
        work_until(ifood, lambda status=status: Order.objects.get(pk=order.pk).status == status)
    ifood_sim.book.conclude(order.external_id)
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "completed")
    order.refresh_from_db()
    # CON after DSP implies delivery: both steps are in the history.
    assert list(order.history.exclude(new_status="").values_list("new_status", flat=True).order_by("created_at", "id"))[-2:] == [
        "delivered", "completed"
    ]


def test_dispatch_is_not_offered_when_ifood_delivers(ifood, ifood_sim):
    """Given iFood's couriers deliver, then dispatch is not an action (iFood dispatches itself)."""
    order = placed(ifood, ifood_sim, order_type="DELIVERY", delivered_by="IFOOD")
    act(ifood, order, "confirm")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "confirmed")
    assert "dispatch" not in keys(ifood, order)
    with pytest.raises(OrderActionRefused):
        act(ifood, order, "dispatch")


def test_a_takeout_order_ready_then_concluded_is_completed_without_dispatch(ifood, ifood_sim):
    """Given a takeout order made ready, when iFood concludes it, then ready → completed."""
    order = placed(ifood, ifood_sim, order_type="TAKEOUT")
    act(ifood, order, "confirm")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "confirmed")
    act(ifood, order, "ready_to_pickup")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "ready")
    ifood_sim.book.conclude(order.external_id)
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "completed")


def test_an_event_that_overtakes_the_details_is_applied_once_the_order_exists(ifood, ifood_sim):
    """Given PLC whose details still 404 when CFM arrives, when the details come, then the order is created confirmed."""
    ifood_sim.details_404_requests = 1000
    order_id = ifood_sim.place_order()
    work(ifood, time_travel=False)  # PLC stored, details 404: the fetch waits for its backoff
    sim_order = ifood_sim.book.get(order_id)
    ifood_sim.book.move(sim_order, "CONFIRMED", "CFM")
    work(ifood, time_travel=False)  # CFM stored and processed before the order exists
    assert not Order.objects.filter(external_id=order_id).exists()
    assert ifood_sim.requests_to(f"/order/v1.0/orders/{order_id}")
    # when the details become available
    ifood_sim.details_404_requests = 0
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    # then the stored CFM was replayed onto the new order
    assert Order.objects.get(external_id=order_id).status == "confirmed"


def test_a_late_event_is_kept_in_the_history_and_changes_nothing(ifood, ifood_sim):
    """Given a confirmed order, when an old CFM arrives after RTP, then the status stays and the history says why."""
    order = placed(ifood, ifood_sim, order_type="TAKEOUT")
    act(ifood, order, "confirm")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "confirmed")
    act(ifood, order, "ready_to_pickup")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "ready")
    ifood_sim.emit(order.external_id, ifood_sim.book.get(order.external_id).merchant_id, "CFM")
    work(ifood)
    order.refresh_from_db()
    assert order.status == "ready"
    assert order.history.filter(message__contains="arrived while the order was ready").exists()


def test_a_customer_cancellation_request_is_shown_and_accepting_it_cancels(ifood, ifood_sim):
    """Given CAR, then the operator sees the request with accept/deny; accepting gives CAN and the order is cancelled."""
    order = placed(ifood, ifood_sim)
    ifood_sim.book.customer_requests_cancellation(order.external_id, "503", "Demora na entrega", "CONSUMER")
    work(ifood)
    order.refresh_from_db()
    assert "Demora na entrega" in order.cancellation_request_reason
    assert keys(ifood, order) == ["accept_cancellation", "deny_cancellation"]
    act(ifood, order, "accept_cancellation")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "cancelled")
    order.refresh_from_db()
    assert order.cancellation_request_reason == "" and order.awaiting_label == ""


def test_denying_a_cancellation_request_lets_the_order_go_on(ifood, ifood_sim):
    """Given CAR, when denied, then iFood's 202 ends the request (iFood sends no event for a denial)."""
    order = placed(ifood, ifood_sim)
    ifood_sim.book.customer_requests_cancellation(order.external_id, "503", "Demora", "CONSUMER")
    work(ifood)
    act(ifood, order, "deny_cancellation")
    work(ifood)
    order.refresh_from_db()
    assert (order.status, order.cancellation_request_reason, order.awaiting_label) == ("new", "", "")
    assert keys(ifood, order) == ["confirm", "request_cancellation"]


def test_requesting_cancellation_takes_a_reason_from_ifood(ifood, ifood_sim):
    """Given the reasons iFood lists, when the operator picks none or an unknown one, it is refused; a listed one cancels."""
    order = placed(ifood, ifood_sim)
    gateway = get_integration_gateway(ifood.integration_type)
    choices = gateway.order_action_choices(ifood, order, "request_cancellation")
    assert choices and all(value.isdigit() for value, _ in choices)
    with pytest.raises(OrderActionRefused):
        act(ifood, order, "request_cancellation")
    with pytest.raises(OrderActionRefused):
        act(ifood, order, "request_cancellation", reason="999999")
    assert not Directive.objects.filter(topic=TOPIC_ACTION).exists()
    act(ifood, order, "request_cancellation", reason=choices[0][0])
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "cancelled")
    sent = ifood_sim.requests_to(f"/order/v1.0/orders/{order.external_id}/requestCancellation")[-1].json()
    assert sent["cancellationCode"] == choices[0][0] and sent["reason"]


def test_an_action_ifood_refuses_ends_the_wait_and_says_why(ifood, ifood_sim):
    """Given iFood answers 409 to an action, then the directive fails, the wait ends and the history says iFood refused."""
    order = placed(ifood, ifood_sim, order_type="TAKEOUT")
    act(ifood, order, "confirm")
    run_directives()
    work(ifood)
    # iFood cancelled it meanwhile (unconfirmed too long on its side): our next action is refused.
    ifood_sim.book.move(ifood_sim.book.get(order.external_id), "CANCELLED", "CAN")
    order.refresh_from_db()
    act(ifood, order, "ready_to_pickup")
    run_directives()
    order.refresh_from_db()
    assert order.awaiting_label == ""
    assert order.history.filter(message__contains="iFood refused Ready to pickup").exists()
    work(ifood)
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_an_unknown_action_is_refused_and_queues_nothing(ifood, ifood_sim):
    """Given a new order, when asked to dispatch it, then OrderActionRefused names what is possible."""
    order = placed(ifood, ifood_sim)
    with pytest.raises(OrderActionRefused, match="possible: confirm, request_cancellation"):
        act(ifood, order, "dispatch")
    assert not Directive.objects.filter(topic=TOPIC_ACTION).exists()


def test_a_delivery_concluded_before_dispatch_is_recorded_as_dispatched_and_delivered(ifood, ifood_sim):
    """Given iFood's couriers deliver a confirmed order, when CON arrives, then the walk goes through dispatched and delivered."""
    order = placed(ifood, ifood_sim, order_type="DELIVERY", delivered_by="IFOOD")
    act(ifood, order, "confirm")
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "confirmed")
    ifood_sim.book.conclude(order.external_id)
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "completed")
    walked = list(order.history.exclude(new_status="").order_by("created_at", "id").values_list("new_status", flat=True))
    assert walked == ["confirmed", "preparing", "ready", "dispatched", "delivered", "completed"]
