"""The console: the live order list and its filters, the order page, its actions, and hand-made orders."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hi.conftest import member
from hi.orders.models import Order, OrderStatus
from hi.workspaces.models import Role

from .helpers import make_order, source_for

LIST = reverse("order-list")
NEW = reverse("order-new")


def action_url(order: Order, key: str) -> str:
    """The URL of one action on an order."""
    return reverse("order-action", args=[order.ref, key])


def rows(response) -> list[str]:
    """The refs the list shows."""
    return [o.ref for o in response.context["page"].object_list]


def test_the_empty_list_says_what_to_do(operator_client):
    page = operator_client.get(LIST).content.decode()
    assert "No orders yet" in page and reverse("integration-add") in page and NEW in page


def test_the_list_shows_orders_newest_first_with_status_counts(viewer_client, workspace):
    # given two orders, one confirmed
    old, new = make_order(workspace), make_order(workspace, display_id="77")
    Order.objects.filter(pk=old.pk).update(status=OrderStatus.CONFIRMED, created_at=timezone.now() - timedelta(minutes=5))
    # when a viewer opens the list
    response = viewer_client.get(LIST)
    # then both are shown, newest first, and the status filter counts them
    assert response.status_code == 200 and rows(response) == [new.ref, old.ref]
    counts = {o["value"]: o["count"] for o in response.context["status_options"]}
    assert counts["new"] == 1 and counts["confirmed"] == 1 and response.context["total"] == 2
    assert "Confirmed (1)" in response.content.decode()


def test_filters_by_status_source_and_date_and_search_by_ref_or_display_id(viewer_client, workspace):
    # given orders from a source, by hand, and one from last week
    source = source_for(workspace)
    sourced = make_order(workspace, source, display_id="1001")
    by_hand = make_order(workspace, display_id="2002")
    last_week = make_order(workspace, display_id="3003")
    Order.objects.filter(pk=last_week.pk).update(created_at=timezone.now() - timedelta(days=7), status=OrderStatus.CANCELLED)
    today = timezone.localdate().isoformat()
    # when filtered, then only the matching ones are shown
    assert rows(viewer_client.get(LIST, {"source": str(source.pk)})) == [sourced.ref]
    assert set(rows(viewer_client.get(LIST, {"source": "manual"}))) == {by_hand.ref, last_week.ref}
    assert rows(viewer_client.get(LIST, {"status": "cancelled"})) == [last_week.ref]
    assert set(rows(viewer_client.get(LIST, {"from": today}))) == {sourced.ref, by_hand.ref}
    assert rows(viewer_client.get(LIST, {"to": (timezone.localdate() - timedelta(days=1)).isoformat()})) == [last_week.ref]
    assert rows(viewer_client.get(LIST, {"q": "2002"})) == [by_hand.ref]
    assert rows(viewer_client.get(LIST, {"q": sourced.ref.lower()})) == [sourced.ref]
    assert rows(viewer_client.get(LIST, {"q": sourced.ref[-8:]})) == [sourced.ref]
    # and nonsense filters mean "any", never an error
    assert len(rows(viewer_client.get(LIST, {"status": "lost", "source": "x", "from": "2026-13-45"}))) == 3
    empty = viewer_client.get(LIST, {"q": "nothing-like-this"}).content.decode()
    assert "No order matches these filters" in empty


def test_htmx_polls_only_the_table(viewer_client, workspace):
    order = make_order(workspace)
    page = viewer_client.get(LIST).content.decode()
    assert 'hx-trigger="every 5s"' in page
    partial = viewer_client.get(LIST, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="order-table"') and order.ref in partial and "<html" not in partial


def test_the_list_is_paginated(viewer_client, workspace):
    for _ in range(51):
        make_order(workspace)
    first, second = viewer_client.get(LIST), viewer_client.get(LIST, {"page": 2})
    assert len(rows(first)) == 50 and len(rows(second)) == 1 and 'rel="next"' in first.content.decode()


def test_the_order_page_shows_items_totals_payment_customer_and_history(viewer_client, workspace):
    order = make_order(workspace, source_for(workspace))
    page = viewer_client.get(order.get_absolute_url()).content.decode()
    for text in (order.ref, "#4821", "Cheeseburger", "no onions", "Cheddar", "R$ 34.90", "R$ 36.90", "R$ 5.00", "−R$ 3.00",
                 "CREDIT", "VISA", "Ana Souza", "Rua Augusta 100", "Corner Shop", "ext-1", "created from Corner Shop"):
        assert text in page, text
    assert 'data-status="new"' in page and 'hx-trigger="every 5s"' in page
    # a viewer sees no action buttons
    assert "data-action=" not in page


def test_the_waiting_and_cancellation_request_banners(viewer_client, workspace):
    from hi.orders import api

    order = make_order(workspace, source_for(workspace))
    api.set_awaiting(order, "Confirm", actor="olivia")
    api.set_cancellation_request(order, "Customer changed their mind", actor="demo")
    page = viewer_client.get(order.get_absolute_url()).content.decode()
    assert "Waiting for Demo provider" in page and "Cancellation requested" in page and "Customer changed their mind" in page


def test_another_workspaces_order_is_a_404(operator_client, other_workspace):
    theirs = make_order(other_workspace)
    assert operator_client.get(theirs.get_absolute_url()).status_code == 404
    assert operator_client.post(action_url(theirs, "confirm")).status_code == 404
    assert rows(operator_client.get(LIST, {"q": theirs.ref})) == []
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.NEW


def test_viewers_cannot_act_or_create(viewer_client, workspace):
    order = make_order(workspace)
    assert viewer_client.post(action_url(order, "confirm")).status_code == 403
    assert viewer_client.get(NEW).status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_an_operator_moves_a_hand_made_order_through_its_actions_at_once(operator_client, workspace):
    # given a takeout order made by hand
    order = make_order(workspace, type="takeout")
    page = operator_client.get(order.get_absolute_url()).content.decode()
    assert 'data-action="confirm"' in page and 'data-action="cancel"' in page
    # when the operator presses each button in turn
    for key, status in [("confirm", "confirmed"), ("start_preparation", "preparing"), ("ready", "ready"), ("complete", "completed")]:
        response = operator_client.post(action_url(order, key), follow=True)
        # then the order is there at once, and says so
        assert Order.objects.get(pk=order.pk).status == status
        assert f"is now {OrderStatus(status).label.lower()}" in response.content.decode()
    history = Order.objects.get(pk=order.pk).history.filter(kind="status_changed")
    assert history.count() == 4 and set(history.values_list("actor", flat=True)) == {"olivia"}


def test_a_delivery_order_is_dispatched_then_delivered(operator_client, workspace):
    order = make_order(workspace)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.READY)
    page = operator_client.get(order.get_absolute_url()).content.decode()
    assert 'data-action="dispatch"' in page and 'data-action="complete"' not in page
    operator_client.post(action_url(order, "dispatch"))
    operator_client.post(action_url(order, "deliver"))
    operator_client.post(action_url(order, "complete"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_an_order_from_a_source_without_order_actions_gets_hi_s_own(operator_client, workspace):
    order = make_order(workspace, source_for(workspace))
    operator_client.post(action_url(order, "confirm"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_an_action_the_order_does_not_allow_now_is_a_message_and_changes_nothing(operator_client, workspace):
    order = make_order(workspace)
    response = operator_client.post(action_url(order, "dispatch"), follow=True)
    assert response.status_code == 200 and "not an action order" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW


def test_cancelling_asks_for_a_reason_from_the_offered_choices(operator_client, workspace):
    # given a new order
    order = make_order(workspace)
    # when the operator opens Cancel, then a form offers the reasons
    form = operator_client.get(action_url(order, "cancel")).content.decode()
    assert "out_of_stock" in form and "An item is out of stock" in form
    # when the reason is missing or not offered, then it is a form error and nothing changes
    for bad in ({}, {"reason": "because"}):
        response = operator_client.post(action_url(order, "cancel"), bad)
        assert response.status_code == 200 and response.context["form"].errors
        assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW
    # when a reason is chosen, then the order is cancelled with it
    response = operator_client.post(action_url(order, "cancel"), {"reason": "out_of_stock"})
    assert response.status_code == 302
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == OrderStatus.CANCELLED and stored.cancelled_at is not None
    assert "An item is out of stock" in stored.history.get(kind="status_changed").message
    # and a cancelled order offers nothing more
    page = operator_client.get(order.get_absolute_url()).content.decode()
    assert "data-action=" not in page and 'hx-trigger="every 5s"' not in page


def new_order_post(**overrides) -> dict:
    """A valid hand-made order form: 2 × 10.50 and 1 × 3,25 (comma), a 4.00 fee and a 1.00 discount."""
    data = {
        "items-TOTAL_FORMS": "3", "items-INITIAL_FORMS": "0", "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "20",
        "items-0-name": "Pizza", "items-0-sku": "PZ", "items-0-quantity": "2", "items-0-unit_price": "10.50",
        "items-1-name": "Soda", "items-1-quantity": "1", "items-1-unit_price": "3,25", "items-1-notes": "cold",
        "type": "delivery", "display_id": "T-9", "customer_name": "Bruno", "customer_phone": "555", "address": "Rua A 1",
        "delivery_fee": "4.00", "additional_fees": "", "discount": "1", "payment_method": "CASH", "change_for": "50", "notes": "",
    }
    data.update(overrides)
    return data


def test_an_operator_creates_an_order_by_hand_with_computed_totals(operator_client, workspace, django_capture_on_commit_callbacks):
    assert operator_client.get(NEW).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(NEW, new_order_post())
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert (order.subtotal_q, order.delivery_fee_q, order.discount_q, order.total_q) == (2425, 400, 100, 2725)
    assert order.source is None and order.external_id == "" and order.status == OrderStatus.NEW
    assert order.payments == [{"method": "CASH", "prepaid": False, "amount_q": 2725, "change_for_q": 5000, "detail": ""}]
    assert [(i.name, i.total_q, i.notes) for i in order.items.all()] == [("Pizza", 2100, ""), ("Soda", 325, "cold")]
    assert order.delivery_address == {"formatted": "Rua A 1"} and order.history.get().actor == "olivia"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({
            "items-0-name": "", "items-0-sku": "", "items-0-quantity": "", "items-0-unit_price": "", "items-1-name": "",
            "items-1-quantity": "", "items-1-unit_price": "", "items-1-notes": ""
        }, "Add at least one item"),
        ({"items-0-unit_price": "ten"}, "write an amount like 12.50"),
        ({"items-0-unit_price": "1.005"}, "at most two decimal places"),
        ({"items-0-quantity": "-1"}, "greater than or equal to"),
        ({"items-1-name": ""}, "Name the item"),
        ({"discount": "100"}, "total would be negative"),
        ({"address": ""}, "needs an address"),
        ({"change_for": "10"}, "less than the total"),
        ({"payment_method": "PIX"}, "only for cash"),
        ({"customer_name": ""}, "required"),
        ({"type": "boat"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error_and_creates_nothing(operator_client, overrides, message):
    response = operator_client.post(NEW, new_order_post(**overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Order.objects.exists()


def test_the_nav_links_to_orders(viewer_client):
    assert f'href="{LIST}"' in viewer_client.get(reverse("dashboard")).content.decode()


def test_a_member_of_another_workspace_only_sees_theirs(client, workspace, other_workspace):
    mine, theirs = make_order(workspace), make_order(other_workspace)
    client.force_login(member(other_workspace, "otto", Role.VIEWER))
    assert rows(client.get(LIST)) == [theirs.ref]
    assert client.get(mine.get_absolute_url()).status_code == 404


def test_htmx_refreshes_only_the_order_s_live_region(viewer_client, workspace):
    order = make_order(workspace)
    partial = viewer_client.get(order.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="order-live"') and 'data-status="new"' in partial and "Cheeseburger" not in partial
