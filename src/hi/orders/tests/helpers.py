"""Shared steps of the orders hub's tests: order data, orders, and a source integration."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hi.integrations.models import Integration
from hi.orders import api
from hi.orders.data import ItemData, OrderData, PaymentData
from hi.orders.models import Order


def order_data(**overrides) -> OrderData:
    """A delivery order of two lines (one with an option): 2 × 12.50 + 1 × 8.90 (+1.00 option) + 5.00 fee − 3.00."""
    items = [
        ItemData(sku="BURGER-1", name="Cheeseburger", quantity=Decimal("2"), unit_price_q=1250, total_q=2500, notes="no onions"),
        ItemData(
            sku="FRIES", name="Fries", quantity=Decimal("1"), unit_price_q=890, total_q=990,
            options=[{"name": "Cheddar", "quantity": 1, "unit_price_q": 100, "total_q": 100, "sku": "CHD"}],
        ),
    ]
    data = OrderData(
        external_id="ext-1",
        display_id="4821",
        type="delivery",
        customer_name="Ana Souza",
        customer_phone="+55 11 99999-0000",
        delivery_address={"street": "Rua Augusta", "number": "100", "city": "São Paulo", "formatted": "Rua Augusta 100, São Paulo"},
        items=items,
        subtotal_q=3490,
        delivery_fee_q=500,
        additional_fees_q=0,
        discount_q=300,
        total_q=3690,
        payments=[PaymentData(method="CREDIT", prepaid=True, amount_q=3690, detail="VISA")],
    )
    return replace(data, **overrides)


def source_for(workspace, name: str = "Corner Shop") -> Integration:
    """A demo integration row (no simulator needed: the demo gateway is no OrderSource, so hi's own actions apply)."""
    return Integration.objects.create(workspace=workspace, integration_type="demo", name=name, unique_id=f"acct-{name}")


def make_order(workspace, source: Integration | None = None, **overrides) -> Order:
    """A stored order (hand-made unless a source is given)."""
    if source is None:
        overrides.setdefault("external_id", "")
    order, _ = api.create_order(workspace, order_data(**overrides), source=source, actor="test")
    return order

