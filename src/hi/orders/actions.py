"""Order actions for the console and the CLI: the source gateway's (an OrderSource) or hi's built-in transitions."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from hi.integrations.api import Integration, ProviderError, failure_text, get_integration_gateway

from . import api
from .errors import ActionRefused, IllegalTransition
from .flow import TERMINAL
from .models import Order, OrderStatus, OrderType
from .sources import OrderAction, OrderActionRefused, OrderSource

logger = logging.getLogger(__name__)
S = OrderStatus


@dataclass(frozen=True)
class BuiltIn:
    """A built-in action: the status it moves a hand-made order to, and from where."""

    action: OrderAction
    target: str
    sources: frozenset[str]
    types: frozenset[str] = frozenset(OrderType.values)


PICKUP = frozenset({OrderType.TAKEOUT, OrderType.DINE_IN})
NOT_TERMINAL = frozenset(S.values) - TERMINAL

#: What an operator can do to an order hi owns (made by hand, or whose source cannot act on it).
BUILT_IN: tuple[BuiltIn, ...] = (
    BuiltIn(OrderAction("confirm", "Confirm", "Accept the order: it becomes confirmed."), S.CONFIRMED, frozenset({S.NEW})),
    BuiltIn(
        OrderAction("start_preparation", "Start preparation", "The kitchen starts on it: preparing."), S.PREPARING, frozenset({S.CONFIRMED})
    ),
    BuiltIn(OrderAction("ready", "Ready", "The order is ready for pickup or dispatch."), S.READY, frozenset({S.PREPARING})),
    BuiltIn(
        OrderAction("dispatch", "Dispatch", "The order left with the courier: dispatched."), S.DISPATCHED, frozenset({S.READY}),
        frozenset({OrderType.DELIVERY})
    ),
    BuiltIn(
        OrderAction("deliver", "Mark delivered", "The courier handed it to the customer: delivered."), S.DELIVERED,
        frozenset({S.DISPATCHED})
    ),
    BuiltIn(OrderAction("complete", "Complete", "The customer has it: the order is completed."), S.COMPLETED, frozenset({S.DELIVERED})),
    BuiltIn(
        OrderAction("complete", "Picked up", "The customer collected it: the order is completed."), S.COMPLETED, frozenset({S.READY}),
        PICKUP
    ),
    BuiltIn(
        OrderAction("cancel", "Cancel order", "Cancel the order; this cannot be undone.", needs_reason=True, danger=True), S.CANCELLED,
        NOT_TERMINAL
    ),
)

#: Why a hand-made order is cancelled.
CANCEL_REASONS: list[tuple[str, str]] = [
    ("customer_request", "The customer asked to cancel"),
    ("out_of_stock", "An item is out of stock"),
    ("store_closed", "The store is closed or too busy"),
    ("address", "The address cannot be served"),
    ("duplicate", "Duplicate order"),
    ("other", "Other reason"),
]


def source_gateway(order: Order) -> tuple[Integration, OrderSource] | None:
    """The order's source integration and gateway when that gateway acts on orders (an OrderSource), else None."""
    integration = order.source
    if integration is None:
        return None
    try:
        gateway = get_integration_gateway(integration.integration_type)
    except ValueError:  # a type whose service was uninstalled
        return None
    return (integration, gateway) if isinstance(gateway, OrderSource) else None


def _built_ins(order: Order) -> list[BuiltIn]:
    """The built-in actions allowed for the order's status and type."""
    return [b for b in BUILT_IN if order.status in b.sources and order.type in b.types]


def _refused(integration: Integration, exc: Exception) -> ActionRefused:
    """An ActionRefused saying what the provider answered (secrets redacted)."""
    return ActionRefused(f"{integration.name}: {failure_text(integration, exc)}")


def available(order: Order) -> list[OrderAction]:
    """The actions the order allows right now."""
    found = source_gateway(order)
    if found is None:
        return [b.action for b in _built_ins(order)]
    integration, gateway = found
    try:
        return list(gateway.order_actions(integration, order))
    except Exception as exc:  # noqa: BLE001 - a broken service must not take the order page down
        logger.error("order_actions of %s failed for %s: %s", integration.pk, order.ref, failure_text(integration, exc))
        return []


def find(order: Order, key: str) -> OrderAction:
    """The allowed action `key`, else ActionRefused naming the allowed ones."""
    actions = available(order)
    for action in actions:
        if action.key == key:
            return action
    allowed = ", ".join(a.key for a in actions) or "none"
    raise ActionRefused(f"“{key}” is not an action order {order.ref} allows now (allowed: {allowed}).")


def choices(order: Order, action: OrderAction) -> list[tuple[str, str]]:
    """The reasons to choose from for an action that needs one (may ask the provider)."""
    found = source_gateway(order)
    if found is None:
        return list(CANCEL_REASONS) if action.needs_reason else []
    integration, gateway = found
    try:
        return [(str(v), str(label)) for v, label in gateway.order_action_choices(integration, order, action.key)]
    except (ProviderError, OrderActionRefused) as exc:
        raise _refused(integration, exc) from None
    except Exception as exc:  # noqa: BLE001 - shown to the operator, never a 500
        logger.exception("order_action_choices of %s failed for %s", integration.pk, order.ref)
        raise _refused(integration, exc) from None


def perform(order: Order, key: str, *, actor: str, reason: str = "", reasons: list[tuple[str, str]] | None = None) -> str:
    """Run action `key` on the order and say what happened; ActionRefused when it cannot run (nothing changed)."""
    action = find(order, key)
    params: dict[str, str] = {}
    if action.needs_reason:
        options = dict(reasons if reasons is not None else choices(order, action))
        if reason not in options:
            listed = ", ".join(options) or "none offered"
            raise ActionRefused(f"{action.label} needs a reason, one of: {listed}.")
        params = {"reason": reason, "reason_label": options[reason]}
    found = source_gateway(order)
    if found is None:
        return _apply_built_in(order, action, params, actor)
    integration, gateway = found
    try:
        with transaction.atomic():
            gateway.perform_order_action(integration, order, key, params, actor=actor)
    except (ProviderError, OrderActionRefused) as exc:
        raise _refused(integration, exc) from None
    except Exception as exc:  # noqa: BLE001 - shown to the operator, never a 500
        logger.exception("perform_order_action %s of %s failed for %s", key, integration.pk, order.ref)
        raise _refused(integration, exc) from None
    order.refresh_from_db()
    return f"{action.label}: sent to {order.source_name}. The order changes when {order.source_name} confirms."


def _apply_built_in(order: Order, action: OrderAction, params: dict[str, str], actor: str) -> str:
    """Apply a built-in action at once (hi owns the order's status)."""
    built_in = next(b for b in _built_ins(order) if b.action.key == action.key)
    try:
        api.transition(order, built_in.target, actor=actor, note=params.get("reason_label", ""))
    except IllegalTransition as exc:  # someone else moved it first
        raise ActionRefused(str(exc)) from None
    return f"Order {order.ref} is now {OrderStatus(order.status).label.lower()}."
