"""Turning iFood's order details (BRL decimals) into hi's order data (integer cents), exactly; anything else is a MappingError."""
from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from hi.orders.data import ItemData, OrderData, PaymentData, decimal_cents

#: orderType; INDOOR is documented as unavailable but treated as dine-in: https://developer.ifood.com.br/pt-BR/docs/guides/order/details
ORDER_TYPES = {"DELIVERY": "delivery", "TAKEOUT": "takeout", "DINE_IN": "dine_in", "INDOOR": "dine_in"}


class MappingError(ValueError):
    """iFood's order details lack something hi needs (the order cannot be created from them)."""


def _shown(value: Any) -> str:
    """A provider value quoted in an error, short."""
    return repr(value)[:60]


def _obj(value: Any, where: str) -> dict[str, Any]:
    """An object of the details ({} when absent); MappingError when it is something else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"{where} is not an object: {_shown(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    """A list of the details ([] when absent); MappingError when it is something else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{where} is not a list: {_shown(value)}")
    return value


def _decimal(value: Any, what: str) -> Decimal:
    """A JSON number (or numeric string) as a finite Decimal; MappingError otherwise (booleans, objects, NaN)."""
    if isinstance(value, (bool, dict, list)):
        raise MappingError(f"{what} is not a number: {_shown(value)}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MappingError(f"{what} is not a number: {_shown(value)}") from None
    if not amount.is_finite():
        raise MappingError(f"{what} is not a number: {_shown(value)}")
    return amount


def money(value: Any, where: str, problems: list[str]) -> int:
    """BRL decimal → integer cents with Decimal; a value with more than two decimals is noted, not hidden."""
    if value is None or value == "":
        return 0
    amount = _decimal(value, where)
    cents = decimal_cents(amount, where)  # the hub's range: out of it is OrderDataInvalid, before any rounding
    if Decimal(cents) != amount * 100:
        problems.append(f"{where} {amount} has more than two decimals; stored as {Decimal(cents) / 100:.2f}")
    return cents


def quantity(value: Any, where: str) -> Decimal:
    """An item quantity (grocery items may be fractional); its range is the hub's (data.bounded)."""
    amount = _decimal(value if value is not None else 1, f"{where} quantity")
    if amount <= 0:
        raise MappingError(f"{where} quantity must be positive: {_shown(value)}")
    return amount


def parse_time(text: Any) -> datetime | None:
    """An iFood ISO-8601 timestamp as an aware UTC datetime (None when absent or unreadable)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt_timezone.utc)  # iFood's timestamps are UTC (its order events page)
        # A valid ISO date can still fall outside datetime's range once in UTC (9999-12-31T23:59:59-23:59).
        return moment.astimezone(dt_timezone.utc)
    except (ValueError, OverflowError):
        return None


def _text(value: Any) -> str:
    """A provider value as stripped text ('' for null, objects and lists)."""
    if isinstance(value, str):
        return value.strip()
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _items(details: dict[str, Any], problems: list[str]) -> list[ItemData]:
    """The order's items, options included, each line's total as iFood computed it."""
    items = []
    for index, item in enumerate(_list(details.get("items"), "items")):
        if not isinstance(item, dict):
            raise MappingError(f"item {index + 1} is not an object")
        where = f"item {index + 1} ({_text(item.get('name'))[:40]})"
        options = []
        for number, option in enumerate(_list(item.get("options"), f"{where} options"), start=1):
            if isinstance(option, dict):
                at = f"{where} option {number}"
                options.append({
                    "sku": _text(option.get("externalCode")),
                    "name": _text(option.get("name")),
                    "quantity": str(quantity(option.get("quantity"), at)),
                    "unit_price_q": money(option.get("unitPrice"), f"{at} price", problems),
                    "total_q": money(option.get("price"), f"{at} total", problems),
                })
        items.append(ItemData(
            sku=_text(item.get("externalCode")),
            name=_text(item.get("name")) or f"Item {index + 1}",
            quantity=quantity(item.get("quantity"), where),
            unit_price_q=money(item.get("unitPrice"), f"{where} unit price", problems),
            total_q=money(item.get("totalPrice"), f"{where} total", problems),
            options=options,
            notes=_text(item.get("observations")),
        ))
    return items


def _payments(details: dict[str, Any], problems: list[str]) -> list[PaymentData]:
    """Each payment method: prepaid online or to collect on delivery, with the change to bring."""
    payments = []
    for method in _list(_obj(details.get("payments"), "payments").get("methods"), "payments.methods"):
        if not isinstance(method, dict):
            continue
        cash = method.get("cash") or {}
        card = method.get("card") or {}
        wallet = method.get("wallet") or {}
        change = cash.get("changeFor") if isinstance(cash, dict) else None
        payments.append(PaymentData(
            method=_text(method.get("method")).upper() or "OTHER",
            prepaid=bool(method.get("prepaid")),
            amount_q=money(method.get("value"), "payment", problems),
            change_for_q=money(change, "change for", problems) if change not in (None, "") else None,
            detail=_text((card.get("brand") if isinstance(card, dict) else "") or (wallet.get("name") if isinstance(wallet, dict) else "")),
        ))
    return payments


def _address(details: dict[str, Any]) -> dict[str, str]:
    """The delivery address ({} for takeout and dine-in)."""
    address = _obj(details.get("delivery"), "delivery").get("deliveryAddress") or {}
    if not isinstance(address, dict) or not address:
        return {}
    return {
        "street": _text(address.get("streetName")),
        "number": _text(address.get("streetNumber")),
        "complement": _text(address.get("complement")),
        "neighborhood": _text(address.get("neighborhood")),
        "city": _text(address.get("city")),
        "state": _text(address.get("state")),
        "postal_code": _text(address.get("postalCode")),
        "country": _text(address.get("country")),
        "reference": _text(address.get("reference")),
        "formatted": _text(address.get("formattedAddress")),
    }


def _phone(phone: Any) -> str:
    """iFood's masked number and the localizer the caller must key in to reach the customer (iFood's order details page)."""
    if not isinstance(phone, dict):
        return _text(phone)
    number, localizer = _text(phone.get("number")), _text(phone.get("localizer"))
    return f"{number} (localizer {localizer})" if number and localizer else number


def check_totals(items: list[ItemData], subtotal: int, delivery: int, fees: int, benefits: int, amount: int) -> list[str]:
    """The sums real iFood orders keep: the items add up to subTotal, and subTotal + fees − benefits = orderAmount."""
    problems = []
    items_sum = sum(item.total_q for item in items)
    if items_sum != subtotal:
        problems.append(f"items add up to {items_sum / 100:.2f} but iFood's subTotal is {subtotal / 100:.2f}")
    expected = subtotal + delivery + fees - benefits
    if expected != amount:
        problems.append(
            f"subTotal + deliveryFee + additionalFees − benefits = {expected / 100:.2f} but iFood's orderAmount is {amount / 100:.2f}"
        )
    return problems


def order_data(details: dict[str, Any]) -> OrderData:
    """hi's order data from iFood's details; totals are iFood's own, and any mismatch is recorded."""
    order_id = _text(details.get("id"))
    if not order_id:
        raise MappingError("the order details have no id")
    problems: list[str] = []
    items = _items(details, problems)
    total = _obj(details.get("total"), "total")
    subtotal = money(total.get("subTotal"), "subTotal", problems)
    delivery_fee = money(total.get("deliveryFee"), "deliveryFee", problems)
    fees = money(total.get("additionalFees"), "additionalFees", problems)
    benefits = money(total.get("benefits"), "benefits", problems)
    amount = money(total.get("orderAmount"), "orderAmount", problems)
    problems += check_totals(items, subtotal, delivery_fee, fees, benefits, amount)
    customer = _obj(details.get("customer"), "customer")
    phone = customer.get("phone") or {}
    delivery = _obj(details.get("delivery"), "delivery")
    merchant = _obj(details.get("merchant"), "merchant")
    return OrderData(
        external_id=order_id,
        display_id=_text(details.get("displayId")) or order_id[:8],
        type=ORDER_TYPES.get(_text(details.get("orderType")).upper(), "delivery"),
        customer_name=_text(customer.get("name")),
        customer_phone=_phone(phone),
        delivery_address=_address(details),
        items=items,
        subtotal_q=subtotal,
        delivery_fee_q=delivery_fee,
        additional_fees_q=fees,
        discount_q=benefits,
        total_q=amount,
        payments=_payments(details, problems),
        placed_at=parse_time(details.get("createdAt")),
        notes=_text(delivery.get("observations") if isinstance(delivery, dict) else ""),
        totals_problem="; ".join(problems),
        extra={
            "merchant_id": _text(merchant.get("id")),
            "merchant_name": _text(merchant.get("name")),
            "sales_channel": _text(details.get("salesChannel")),
            "order_timing": _text(details.get("orderTiming")),
            "delivered_by": _text(delivery.get("deliveredBy")) if isinstance(delivery, dict) else "",
            "pickup_code": _text(delivery.get("pickupCode")) if isinstance(delivery, dict) else "",
            "localizer": _text(phone.get("localizer")) if isinstance(phone, dict) else "",
            "is_test": bool(details.get("isTest")),
        },
    )
