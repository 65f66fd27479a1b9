"""What an integration hands the orders hub to create an order (plain data, money in cents)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ItemData:
    """One order line as the provider sent it."""

    sku: str
    name: str
    quantity: Decimal
    unit_price_q: int
    total_q: int
    #: [{"name", "quantity", "unit_price_q", "total_q", "sku"}]
    options: list[dict] = ()  # type: ignore[assignment]
    notes: str = ""


@dataclass(frozen=True)
class PaymentData:
    """One payment: the provider's method word, prepaid or paid on delivery, and change."""

    method: str
    prepaid: bool
    amount_q: int
    change_for_q: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class OrderData:
    """A whole order as an integration (or the console's form) describes it."""

    external_id: str
    display_id: str
    type: str
    customer_name: str
    customer_phone: str
    delivery_address: dict
    items: list[ItemData]
    subtotal_q: int
    delivery_fee_q: int
    additional_fees_q: int
    discount_q: int
    total_q: int
    payments: list[PaymentData]
    placed_at: datetime | None = None
    notes: str = ""
    #: A mismatch the integration found in the provider's totals; recorded in history, never "fixed".
    totals_problem: str = ""
    extra: dict = field(default_factory=dict)
