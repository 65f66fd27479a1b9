"""Template filters of the orders console: money in cents and decimal quantities."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def money(cents) -> str:
    """Integer cents as 'R$ 1,234.56' (negative amounts with a leading minus)."""
    if cents in (None, ""):
        return "—"
    try:
        cents = int(cents)
    except (TypeError, ValueError):
        return "—"  # a page never fails on a stored amount
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}.{part:02d}"


@register.filter
def quantity(value) -> str:
    """A Decimal quantity without trailing zeros: 2, 0.5, 1.25."""
    return decimal_text(value)


def decimal_text(value) -> str:
    """A Decimal written plainly, without exponent or trailing zeros (never an error: pages show what is stored)."""
    if value is None:
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)[:40]
    if not number.is_finite() or number.adjusted() > 30:
        return f"{number:E}" if number.is_finite() else str(number)  # no thousand-digit strings
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
