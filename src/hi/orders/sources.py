"""The orders hub's contract with services: a gateway that subclasses OrderSource offers actions on the orders it created."""
# The framework's gateway knows nothing of orders: a service whose provider acts on orders (iFood's
# confirm, dispatch, cancel) subclasses OrderSource beside IntegrationGateway, and the hub recognises it
# by that (isinstance), asks it what an order allows and hands it the operator's choice. A start-up
# check (hi.orders.checks) refuses a source that does not implement the three methods. Coming hubs
# (messages, shipments, stock) follow the same pattern: their contract lives in the hub.
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hi.integrations.api import HiError, Integration

from .models import Order

#: What an order source must implement (order_action_choices has a default: no reasons).
REQUIRED_METHODS = ("order_actions", "perform_order_action")


@dataclass(frozen=True)
class OrderAction:
    """An action an order's source integration allows right now (a button in the console, a CLI verb)."""

    key: str
    label: str
    description: str
    #: The console and the CLI ask for a reason, chosen from order_action_choices().
    needs_reason: bool = False
    danger: bool = False


class OrderActionRefused(HiError):
    """A gateway refuses an order action or its parameters; the message is shown to the operator."""


class OrderSource:
    """Subclass beside IntegrationGateway to act on the orders your integration created (the order page's buttons, the CLI)."""

    def order_actions(self, integration: Integration, order: Order) -> list[OrderAction]:
        """The actions this order allows right now (no provider call)."""
        raise NotImplementedError(f"{type(self).__name__} must implement order_actions()")

    def order_action_choices(self, integration: Integration, order: Order, action: str) -> list[tuple[str, str]]:
        """(value, label) reasons for an action that needs one; may call the provider."""
        return []

    def perform_order_action(
        self, integration: Integration, order: Order, action: str, params: dict[str, Any], *, actor: str
    ) -> None:
        """Validate, queue the directive and set the awaiting marker; raise OrderActionRefused."""
        raise NotImplementedError(f"{type(self).__name__} must implement perform_order_action()")


def source_problems(gateway_class: type) -> list[str]:
    """What a gateway class that declares itself an OrderSource misses (empty when complete, or when it is no source)."""
    if not (isinstance(gateway_class, type) and issubclass(gateway_class, OrderSource)):
        return []
    return [f"does not implement {name}()" for name in REQUIRED_METHODS if getattr(gateway_class, name) is getattr(OrderSource, name)]
