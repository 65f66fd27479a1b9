"""Template filters of the orders console: money in cents and decimal quantities."""
from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(cents) -> str:
    """Integer cents as 'R$ 1,234.56' (negative amounts with a leading minus)."""
    if cents in (None, ""):
        return "—"
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}.{part:02d}"


@register.filter
def quantity(value) -> str:
    """A Decimal quantity without trailing zeros: 2, 0.5, 1.25."""
    return decimal_text(value)


def decimal_text(value) -> str:
    """A Decimal written plainly, without exponent or trailing zeros."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
