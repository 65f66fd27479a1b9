"""What an integration hands the orders hub to create an order (plain data, money in cents), and its bounds."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from hi.integrations.api import clean_text, is_clean_text


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


# Bounds: what the hub stores from any source ------------------------------------------------------
# Every order, from every service and from the console's form, passes through bounded() before it is
# stored (api.create_order calls it): numbers outside their range, an unusable id, too many lines
# are refused with a readable OrderDataInvalid (a permanent failure, never retried), and free text is
# made safe and cut to its column, with the order's history saying what was cut. A provider that
# sends a 5,000,000-character name or a quantity of 1e30 can neither crash a page nor fill the disk.

#: The largest amount, in cents (R$ 1 billion): anything above is a provider's or a typist's error.
MAX_CENTS = 10**11
#: The largest item quantity (units or kilograms); the column holds 12 digits, 3 of them decimals.
MAX_QUANTITY = Decimal("99999")
QUANTITY_STEP = Decimal("0.001")
MAX_ITEMS = 500
MAX_OPTIONS = 100
MAX_PAYMENTS = 20
#: Order.external_id's size: an id cannot be cut (two orders would become one).
MAX_EXTERNAL_ID = 100
#: Free text of the order: (column size, what the history calls it).
ORDER_TEXT = {
    "display_id": (40, "display id"), "customer_name": (200, "customer name"), "customer_phone": (60, "customer phone"),
    "notes": (4000, "notes")
}
ITEM_TEXT = {"sku": 100, "name": 255, "notes": 1000}
#: Each text inside the address, options, payments and extra data, and how many keys or entries they keep.
MAX_DETAIL_TEXT = 500
MAX_DETAIL_ENTRIES = 50
MAX_DETAIL_DEPTH = 4
MAX_PROBLEM_TEXT = 2000
#: A placing time outside [2000, now + 1 day] is not believed: the time hi received the order is used.
EARLIEST_PLACED = datetime(2000, 1, 1, tzinfo=dt_timezone.utc)
ORDER_TYPES = ("delivery", "takeout", "dine_in")


class OrderDataInvalid(ValueError):
    """Order data hi refuses to store: a number out of range, an unusable id, too many lines; the message says which."""


def decimal_cents(amount: Decimal, where: str) -> int:
    """Reais as integer cents (half-even), refusing what is not finite or out of range before any arithmetic can overflow."""
    if not amount.is_finite() or abs(amount) > Decimal(MAX_CENTS) / 100:
        raise OrderDataInvalid(f"{where} {amount} is out of range (at most {MAX_CENTS // 100:,} reais)")
    return int((amount * 100).to_integral_value(ROUND_HALF_EVEN))


def _cents(value: object, where: str) -> int:
    """An amount in cents, refused unless an integer within ±MAX_CENTS."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_CENTS:
        raise OrderDataInvalid(f"{where} {clean_text(repr(value), 40)} cents is out of range (at most {MAX_CENTS:,})")
    return value


def _quantity(value: object, where: str, notes: list[str]) -> Decimal:
    """A quantity above 0 and at most MAX_QUANTITY, rounded to the column's three decimals (the rounding is noted)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise OrderDataInvalid(f"{where} quantity {clean_text(repr(value), 40)} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_QUANTITY:
        raise OrderDataInvalid(f"{where} quantity {amount} is out of range (more than 0, at most {MAX_QUANTITY})")
    rounded = amount.quantize(QUANTITY_STEP, rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        raise OrderDataInvalid(f"{where} quantity {amount} is out of range (more than 0, at most {MAX_QUANTITY})")
    if rounded != amount:
        _note(notes, f"{where} quantity {amount} has more than three decimals; stored as {rounded.normalize():f}")
    return rounded


def _note(notes: list[str], text: str) -> None:
    """Add a note once."""
    if text not in notes:
        notes.append(text)


def _text(value: object, limit: int, what: str, notes: list[str]) -> str:
    """Text made safe and cut to `limit` characters (the cut is noted)."""
    text = clean_text(value if isinstance(value, str) else ("" if value is None else str(value)))
    if len(text) > limit:
        _note(notes, f"{what} was cut from {len(text):,} to {limit} characters")
        text = text[:limit]
    return text


def _detail(value: object, what: str, notes: list[str], depth: int = MAX_DETAIL_DEPTH) -> object:
    """JSON-ready data with every text cut to MAX_DETAIL_TEXT and every object or list to MAX_DETAIL_ENTRIES."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)  # beyond, JSON readers lose digits
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return f"{value:f}" if value.is_finite() and value.adjusted() < 30 else None
    if isinstance(value, (dict, list, tuple)):
        if depth <= 0:
            raise OrderDataInvalid(f"{what} is nested deeper than {MAX_DETAIL_DEPTH} levels")
        entries = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        if len(entries) > MAX_DETAIL_ENTRIES:
            _note(notes, f"{what} was cut from {len(entries):,} to {MAX_DETAIL_ENTRIES} entries")
            entries = entries[:MAX_DETAIL_ENTRIES]
        if isinstance(value, dict):
            return {clean_text(k, 100): _detail(v, what, notes, depth - 1) for k, v in entries}
        return [_detail(v, what, notes, depth - 1) for _, v in entries]
    return _text(value, MAX_DETAIL_TEXT, f"a text of the {what}", notes)


def _option(option: object, where: str, notes: list[str]) -> dict:
    """One option of an item: its quantity, prices and text bounded like the item's."""
    if not isinstance(option, dict):
        raise OrderDataInvalid(f"{where} is not an object")
    bounded_option = _detail({k: v for k, v in option.items() if k not in ("quantity", "unit_price_q", "total_q")}, where, notes)
    bounded_option["quantity"] = f"{_quantity(option.get('quantity', 1), where, notes).normalize():f}"
    for key, label in (("unit_price_q", "unit price"), ("total_q", "total")):
        bounded_option[key] = _cents(option.get(key, 0), f"{where} {label}")
    return bounded_option


def _item(item: ItemData, number: int, notes: list[str]) -> ItemData:
    """One line, bounded."""
    name = _text(item.name, ITEM_TEXT["name"], f"item {number} name", notes)
    where = f"item {number} ({name[:40]})"
    options = list(item.options or [])
    if len(options) > MAX_OPTIONS:
        raise OrderDataInvalid(f"{where} has more than {MAX_OPTIONS} options ({len(options):,})")
    return ItemData(
        sku=_text(item.sku, ITEM_TEXT["sku"], f"{where} SKU", notes), name=name,
        quantity=_quantity(item.quantity, where, notes),
        unit_price_q=_cents(item.unit_price_q, f"{where} unit price"), total_q=_cents(item.total_q, f"{where} total"),
        options=[_option(o, f"{where} option {n}", notes) for n, o in enumerate(options, start=1)],
        notes=_text(item.notes, ITEM_TEXT["notes"], f"{where} notes", notes),
    )


def _payment(payment: PaymentData, number: int, notes: list[str]) -> PaymentData:
    """One payment, bounded."""
    where = f"payment {number}"
    change = payment.change_for_q
    return PaymentData(
        method=_text(payment.method, 40, f"{where} method", notes), prepaid=bool(payment.prepaid),
        amount_q=_cents(payment.amount_q, f"{where} amount"), change_for_q=None if change is None else _cents(change, f"{where} change"),
        detail=_text(payment.detail, 100, f"{where} detail", notes),
    )


def bounded(data: OrderData) -> tuple[OrderData, list[str]]:
    """The order as hi stores it and notes of what was cut; OrderDataInvalid for what cannot be stored at all."""
    notes: list[str] = []
    external_id = data.external_id if isinstance(data.external_id, str) else str(data.external_id)
    if not is_clean_text(external_id):
        raise OrderDataInvalid("the order's external id is not valid text (it holds a NUL or a lone surrogate)")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise OrderDataInvalid(f"the order's external id is longer than {MAX_EXTERNAL_ID} characters ({len(external_id):,})")
    if data.type not in ORDER_TYPES:
        raise OrderDataInvalid(f"the order type {clean_text(repr(data.type), 40)} is not one of {', '.join(ORDER_TYPES)}")
    if len(data.items) > MAX_ITEMS:
        raise OrderDataInvalid(f"the order has more than {MAX_ITEMS} items ({len(data.items):,})")
    if len(data.payments) > MAX_PAYMENTS:
        raise OrderDataInvalid(f"the order has more than {MAX_PAYMENTS} payments ({len(data.payments):,})")
    text = {name: _text(getattr(data, name), limit, what, notes) for name, (limit, what) in ORDER_TEXT.items()}
    placed_at = data.placed_at
    if placed_at is not None and (
        placed_at.tzinfo is None or not EARLIEST_PLACED <= placed_at <= datetime.now(dt_timezone.utc) + timedelta(days=1)
    ):
        _note(notes, f"the placing time {placed_at.isoformat()} is not plausible; the time hi received the order is used")
        placed_at = None
    money = {
        name: _cents(getattr(data, name), label)
        for name, label in (("subtotal_q", "subtotal"), ("delivery_fee_q", "delivery fee"), ("additional_fees_q", "additional fees"),
                            ("discount_q", "discount"), ("total_q", "total"))
    }
    return replace(
        data, **text, **money, external_id=external_id, placed_at=placed_at,
        items=[_item(item, n, notes) for n, item in enumerate(data.items, start=1)],
        payments=[_payment(p, n, notes) for n, p in enumerate(data.payments, start=1)],
        delivery_address=_detail(dict(data.delivery_address or {}), "delivery address", notes),
        extra=_detail(dict(data.extra or {}), "extra data", notes),
        totals_problem=clean_text(data.totals_problem, MAX_PROBLEM_TEXT),
    ), notes
