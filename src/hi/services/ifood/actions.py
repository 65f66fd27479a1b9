"""What an operator may do to an iFood order right now, and turning a choice into a directive."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from hi.integrations.api import Integration
from hi.orders.models import Order
from hi.orders.sources import OrderAction, OrderActionRefused

from .client import client_for
from .handlers import queue_action

#: The reasons are read while the operator waits for the form: a short timeout, not the worker's 10 s.
REASONS_TIMEOUT_S = 5.0

CONFIRM = OrderAction("confirm", "Confirm", "Accept the order; iFood cancels orders not confirmed within 8 minutes.")
START = OrderAction("start_preparation", "Start preparation", "Tell iFood the kitchen started the order.")
READY = OrderAction("ready_to_pickup", "Ready to pickup", "Tell iFood the order is ready for the courier or the customer.")
DISPATCH = OrderAction("dispatch", "Dispatch", "Tell iFood the store's own courier left with the order.")
REQUEST_CANCELLATION = OrderAction(
    "request_cancellation", "Request cancellation", "Ask iFood to cancel the order, with one of iFood's reasons.",
    needs_reason=True, danger=True,
)
ACCEPT_CANCELLATION = OrderAction(
    "accept_cancellation", "Accept cancellation", "Agree to the customer's cancellation request.", danger=True
)
DENY_CANCELLATION = OrderAction("deny_cancellation", "Deny cancellation", "Refuse the cancellation request; the order goes on.")

#: The actions iFood takes in each hi status (a request can be cancelled until dispatch): https://developer.ifood.com.br/en-US/docs/guides/modules/order/endpoints
BY_STATUS = {
    "new": [CONFIRM, REQUEST_CANCELLATION],
    "confirmed": [START, READY, DISPATCH, REQUEST_CANCELLATION],
    "preparing": [READY, DISPATCH, REQUEST_CANCELLATION],
    "ready": [DISPATCH, REQUEST_CANCELLATION],
}


def _merchant_delivers(order: Order) -> bool:
    """dispatch is for the store's own couriers only (iFood's order endpoints page): a delivery order iFood does not deliver."""
    return order.type == "delivery" and (order.extra or {}).get("delivered_by", "MERCHANT").upper() != "IFOOD"


def available(order: Order) -> list[OrderAction]:
    """The actions iFood accepts for the order now; none while an earlier one awaits iFood's event."""
    if order.awaiting_label:
        return []
    if order.cancellation_request_reason:
        return [ACCEPT_CANCELLATION, DENY_CANCELLATION]
    return [a for a in BY_STATUS.get(order.status, []) if a is not DISPATCH or _merchant_delivers(order)]


def reasons(integration: Integration, order: Order) -> list[tuple[str, str]]:
    """iFood's cancellation reasons valid for this order now (a live call; provider errors propagate)."""
    return [
        (str(r.get("cancelCodeId")), f"{r.get('cancelCodeId')} — {r.get('description') or ''}".strip(" —"))
        for r in client_for(integration, timeout_s=REASONS_TIMEOUT_S).cancellation_reasons(order.external_id)
        if r.get("cancelCodeId") is not None
    ]


def perform(integration: Integration, order: Order, action: str, params: dict[str, Any], actor: str) -> None:
    """Check the action is possible now, then queue it and mark the order as waiting for iFood."""
    allowed = {a.key: a for a in available(order)}
    if action not in allowed:
        names = ", ".join(allowed) or "none while waiting for iFood"
        raise OrderActionRefused(f"{action!r} is not possible for order {order.ref} now (it is {order.status}); possible: {names}.")
    body = None
    if action == "request_cancellation":
        code = str(params.get("reason") or "").strip()
        if not code:
            raise OrderActionRefused("Choose one of iFood's cancellation reasons.")
        # The orders hub checked the reason against order_action_choices() already (and passes its label);
        # a direct caller gets the same check here.
        label = params.get("reason_label") or dict(reasons(integration, order)).get(code)
        if not label:
            raise OrderActionRefused(f"{code!r} is not one of iFood's cancellation reasons for this order.")
        # Older pages send reason + cancellationCode, newer ones the code as reason; this form suits both readers.
        # https://developer.ifood.com.br/en-US/docs/guides/modules/order/endpoints
        body = {"reason": str(label).split(" — ", 1)[-1], "cancellationCode": code}
    with transaction.atomic():
        queue_action(integration, order, action, body, actor)
