"""manage.py orders: list (table and JSON) and action, with clear errors."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hi.orders.models import Order, OrderStatus

from .helpers import make_order, source_for


def run(*args: str) -> str:
    """Run `manage.py orders …` and return what it printed."""
    out = StringIO()
    call_command("orders", *args, stdout=out)
    return out.getvalue()


def test_list_json_prints_orders_with_their_items(workspace, other_workspace):
    # given an order from a source, one by hand, and one in another workspace
    source = source_for(workspace)
    sourced = make_order(workspace, source)
    by_hand = make_order(workspace, display_id="9")
    make_order(other_workspace)
    # when listed as JSON
    rows = json.loads(run("list", "--workspace", "main", "--json"))
    # then both of this workspace's orders are there, newest first, with ids, status, totals and items
    assert [r["ref"] for r in rows] == [by_hand.ref, sourced.ref]
    first = rows[1]
    assert (first["source"], first["external_id"], first["display_id"], first["status"], first["total_q"]) == (
        str(source.pk), "ext-1", "4821", "new", 3690
    )
    assert first["items"][0] == {
        "sku": "BURGER-1", "name": "Cheeseburger", "quantity": "2", "unit_price_q": 1250, "total_q": 2500, "options": [],
        "notes": "no onions"
    }
    assert rows[0]["source"] is None and rows[0]["external_id"] == ""


def test_list_filters_by_status_and_prints_a_table(workspace):
    confirmed, new = make_order(workspace), make_order(workspace)
    Order.objects.filter(pk=confirmed.pk).update(status=OrderStatus.CONFIRMED)
    assert [r["ref"] for r in json.loads(run("list", "--workspace", "main", "--status", "confirmed", "--json"))] == [confirmed.ref]
    table = run("list", "--workspace", "main")
    assert "REF" in table and confirmed.ref in table and new.ref in table and "R$ 36.90" in table
    assert "No orders" in run("list", "--workspace", "main", "--status", "cancelled")


def test_action_runs_the_console_s_code(workspace):
    order = make_order(workspace)
    assert "is now confirmed" in run("action", order.ref, "confirm", "--workspace", "main")
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == OrderStatus.CONFIRMED and stored.history.get(kind="status_changed").actor == "cli"


def test_cancel_needs_an_offered_reason(workspace):
    order = make_order(workspace)
    with pytest.raises(CommandError, match="needs --reason, one of: customer_request"):
        run("action", order.ref, "cancel", "--workspace", "main")
    with pytest.raises(CommandError, match="needs --reason"):
        run("action", order.ref, "cancel", "--reason", "bored", "--workspace", "main")
    run("action", order.ref, "cancel", "--reason", "duplicate", "--workspace", "main")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


@pytest.mark.parametrize(
    "args, message",
    [
        (("action", "ORD-20260101-NOPE2345", "confirm", "--workspace", "main"), "No order ORD-20260101-NOPE2345 in workspace main"),
        (("action", "{ref}", "launch", "--workspace", "main"), "not an action order .* allows now \\(allowed: confirm, cancel\\)"),
        (("action", "{ref}", "dispatch", "--workspace", "main"), "not an action"),
        (("action", "{ref}", "confirm", "--workspace", "other"), "No order"),
        (("list", "--workspace", "nowhere"), "No workspace nowhere"),
    ],
)
def test_unknown_refs_actions_and_workspaces_are_command_errors(workspace, other_workspace, args, message):
    order = make_order(workspace)
    with pytest.raises(CommandError, match=message):
        run(*[a.replace("{ref}", order.ref) for a in args])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW
