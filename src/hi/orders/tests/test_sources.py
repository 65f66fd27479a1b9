"""The orders hub's contract with services: a gateway is an order source by subclassing OrderSource, checked at start-up."""
from __future__ import annotations

from types import SimpleNamespace

from hi.integrations.contract.gateway import Capability, IntegrationGateway
from hi.integrations.factory import get_integration_gateway
from hi.integrations.types import IntegrationType
from hi.orders.checks import check_order_sources, order_source_errors
from hi.orders.sources import OrderAction, OrderSource, source_problems


class IncompleteSource(IntegrationGateway, OrderSource):
    """Says it is an order source, implements nothing of it."""


class CompleteSource(IntegrationGateway, OrderSource):
    """Implements what the hub asks of a source."""

    def order_actions(self, integration, order):
        """One action."""
        return [OrderAction("confirm", "Confirm", "Accept the order.")]

    def perform_order_action(self, integration, order, action, params, *, actor):
        """Accept anything."""


def test_a_source_that_misses_the_hub_s_methods_is_reported():
    """Given a gateway that subclasses OrderSource without its methods, then both missing methods are named."""
    assert source_problems(IncompleteSource) == ["does not implement order_actions()", "does not implement perform_order_action()"]
    assert source_problems(CompleteSource) == []
    assert source_problems(IntegrationGateway) == []  # not a source: nothing to check


def test_the_start_up_check_refuses_an_incomplete_source():
    """Given a registered type whose gateway is an incomplete source, then the orders hub's check is an error naming it."""
    broken = SimpleNamespace(name="BROKEN", gateway_path=f"{__name__}.IncompleteSource")
    errors = order_source_errors([broken])
    assert [error.id for error in errors] == ["hi.orders.E001", "hi.orders.E001"]
    assert "IntegrationType.BROKEN" in errors[0].msg and "order_actions()" in errors[0].msg


def test_every_registered_source_implements_the_contract_and_the_framework_knows_no_orders():
    """The installed gateways pass the check; the framework's capabilities no longer name order actions."""
    assert check_order_sources() == []
    assert "order_actions" not in {capability.value for capability in Capability}
    assert isinstance(get_integration_gateway(IntegrationType.IFOOD), OrderSource)
    assert not isinstance(get_integration_gateway(IntegrationType.DEMO), OrderSource)
