"""Fixtures of the airtime tests: the provider's simulator, an active integration, orders with airtime lines, the worker by hand."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from hi.integrations.api import Directive, DirectiveStatus, Integration, IntegrationType, run_directive_now
from hi.integrations.testing import setup
from hi.orders import actions as order_actions
from hi.orders import api as orders
from hi.orders.data import ItemData, OrderData
from hi.orders.models import Order
from hi.services.airtime.simulator import AirtimeSimulator

KEY, SIGNING_SECRET = "demo-airtime-key", "demo-signing-secret"
PRODUCT_MAP = "AIR-CLARO-10=claro-br, AIR-VIVO-20=vivo-br"


@pytest.fixture
def sim():
    """A running voucher provider."""
    with AirtimeSimulator() as server:
        yield server


def attributes(sim: AirtimeSimulator, **extra: str) -> dict:
    """Raw attributes of an integration against the simulator's demo account."""
    return {"api_base_url": sim.url, "api_key": KEY, "signing_secret": SIGNING_SECRET, "product_map": PRODUCT_MAP, **extra}


@pytest.fixture
def airtime(workspace, sim) -> Integration:
    """An active airtime integration in the workspace."""
    return setup.add_integration(workspace, IntegrationType.AIRTIME, "Top-ups", attributes(sim), actor="test")


def new_order(workspace, *lines: tuple[str, str, int], phone: str = "+55 11 99999-0000") -> Order:
    """A hand-made order with lines (sku, quantity, unit price in cents), created new."""
    items = [ItemData(sku=sku, name=sku.title(), quantity=Decimal(quantity), unit_price_q=price, total_q=int(Decimal(quantity) * price))
             for sku, quantity, price in lines]
    total = sum(item.total_q for item in items)
    data = OrderData(
        external_id="", display_id="", type="takeout", customer_name="Ana Souza", customer_phone=phone, delivery_address={},
        items=items, subtotal_q=total, delivery_fee_q=0, additional_fees_q=0, discount_q=0, total_q=total, payments=[],
    )
    return orders.create_order(workspace, data, source=None, actor="test")[0]


def confirm(order: Order, capture) -> None:
    """The operator confirms the order; its events are dispatched as after a real commit (the hooks run)."""
    with capture(execute=True):
        order_actions.perform(order, "confirm", actor="olivia")


def run_directives(integration: Integration) -> list[str]:
    """Run every queued directive of the integration once, as if its retry wait were over; their statuses after."""
    queued = Directive.objects.filter(integration=integration, status=DirectiveStatus.QUEUED)
    queued.update(next_run_at=timezone.now())
    for pk in list(queued.values_list("pk", flat=True)):
        run_directive_now(pk, "test-worker")
    return list(Directive.objects.filter(integration=integration).order_by("pk").values_list("status", flat=True))
