"""manage.py orders: list a workspace's orders and run an order action, through the console's code."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.api import DEFAULT_WORKSPACE, find_workspace
from hi.orders import actions
from hi.orders.errors import ActionRefused
from hi.orders.models import Order, OrderStatus
from hi.orders.templatetags.orders import decimal_text, money

ACTOR = "cli"


def order_row(order: Order) -> dict[str, Any]:
    """An order as `orders list --json` prints it (money in integer cents)."""
    return {
        "ref": order.ref,
        "source": str(order.source_id) if order.source_id else None,
        "source_type": order.source_type,
        "external_id": order.external_id,
        "display_id": order.display_id,
        "type": order.type,
        "status": order.status,
        "awaiting": order.awaiting_label,
        "cancellation_requested": order.cancellation_requested_at is not None,
        "customer_name": order.customer_name,
        "subtotal_q": order.subtotal_q,
        "delivery_fee_q": order.delivery_fee_q,
        "additional_fees_q": order.additional_fees_q,
        "discount_q": order.discount_q,
        "total_q": order.total_q,
        "created_at": order.created_at.isoformat(),
        "items": [
            {
                "sku": i.sku, "name": i.name, "quantity": decimal_text(i.quantity), "unit_price_q": i.unit_price_q,
                "total_q": i.total_q, "options": i.options, "notes": i.notes,
            }
            for i in order.items.all()
        ],
    }


class Command(BaseCommand):
    """manage.py orders list | action."""

    help = "Orders: list a workspace's orders, or run an action (confirm, dispatch, cancel, …) on one."

    def add_arguments(self, parser: CommandParser) -> None:
        """list | action."""
        commands = parser.add_subparsers(dest="command", required=True)
        listing = commands.add_parser("list", help="List orders, newest first.")
        listing.add_argument("--status", choices=OrderStatus.values)
        listing.add_argument("--limit", type=int, default=100)
        listing.add_argument("--json", action="store_true", help="Print a JSON array.")
        act = commands.add_parser("action", help="Run an action the order allows now (the same as its button in the console).")
        act.add_argument("ref")
        act.add_argument("action", help="e.g. confirm, start_preparation, ready, dispatch, deliver, complete, cancel")
        act.add_argument("--reason", default="", help="The reason's value, for actions that need one (run without it to see the choices).")
        for sub in (listing, act):
            sub.add_argument("--workspace", default=DEFAULT_WORKSPACE)

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the chosen command."""
        workspace = find_workspace(options["workspace"])
        if options["command"] == "list":
            self.list_orders(workspace, options)
        else:
            self.run_action(workspace, options)

    def list_orders(self, workspace, options: dict) -> None:
        """Print the orders as a table or JSON."""
        rows = Order.objects.filter(workspace=workspace).prefetch_related("items")
        if options["status"]:
            rows = rows.filter(status=options["status"])
        found = list(rows.order_by("-created_at", "-id")[: max(1, options["limit"])])
        if options["json"]:
            self.stdout.write(json.dumps([order_row(o) for o in found], indent=2, ensure_ascii=False))
            return
        if not found:
            self.stdout.write(f"No orders in workspace {workspace.slug}.")
            return
        self.stdout.write(f"{'REF':<22} {'DISPLAY':<8} {'STATUS':<10} {'TYPE':<9} {'TOTAL':>12}  {'SOURCE':<20} CUSTOMER")
        for o in found:
            source = o.source_label or "by hand"
            self.stdout.write(
                f"{o.ref:<22} {o.display_id or '—':<8} {o.status:<10} {o.type:<9} {money(o.total_q):>12}  "
                f"{source[:20]:<20} {o.customer_name}"
            )

    def run_action(self, workspace, options: dict) -> None:
        """Run one action, refusing unknown refs and actions, and reasons that are not offered."""
        order = Order.objects.filter(workspace=workspace, ref=options["ref"]).select_related("source").first()
        if order is None:
            raise CommandError(f"No order {options['ref']} in workspace {workspace.slug}.")
        try:
            action = actions.find(order, options["action"])
            reasons = actions.choices(order, action) if action.needs_reason else []
            if action.needs_reason and options["reason"] not in dict(reasons):
                listed = "; ".join(f"{value} ({label})" for value, label in reasons) or "none offered"
                raise CommandError(f"{action.label} needs --reason, one of: {listed}.")
            text = actions.perform(order, action.key, actor=ACTOR, reason=options["reason"], reasons=reasons)
        except ActionRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(text))
