"""Order notifications: the operator's status → template mapping, and the template parameters an order gives."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hi.orders.models import Order, OrderStatus

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
DEFAULT_LANGUAGE = "pt_BR"
#: The parameters an order gives, in this order: {{1}} first name, {{2}} order number, {{3}} total, {{4}} store.
PARAMETERS = ("customer's first name", "order number", "total in R$", "store name")


@dataclass(frozen=True)
class Notification:
    """The template an order status sends."""

    status: str
    template: str
    language: str = DEFAULT_LANGUAGE


def parse_notifications(text: str) -> dict[str, Notification]:
    """`status=template[:language]` pairs, separated by commas or lines; ValueError saying what is wrong."""
    found: dict[str, Notification] = {}
    for part in re.split(r"[,\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        status, equals, target = (p.strip() for p in part.partition("="))
        if not equals or not target:
            raise ValueError(f"“{part[:60]}” is not status=template.")
        if status not in OrderStatus.values:
            raise ValueError(f"“{status[:30]}” is not an order status; use one of: {', '.join(OrderStatus.values)}.")
        template, _, language = (p.strip() for p in target.partition(":"))
        language = language or DEFAULT_LANGUAGE
        if not TEMPLATE_NAME.match(template):
            raise ValueError(f"“{template[:60]}” is not a template name (lowercase letters, digits and _).")
        if not LANGUAGE.match(language):
            raise ValueError(f"“{language[:20]}” is not a language code like pt_BR or en_US.")
        if status in found:
            raise ValueError(f"{status} is mapped twice.")
        found[status] = Notification(status, template, language)
    return found


def brl(cents: int) -> str:
    """Integer cents as Brazilians write reais: R$ 1.234,56."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{part:02d}"


def first_name(full_name: str) -> str:
    """The customer's first name, or a friendly word when the order has none."""
    words = (full_name or "").split()
    return words[0] if words else "cliente"


def order_parameters(order: Order, store_name: str) -> list[str]:
    """The order's values for {{1}}…{{4}}: first name, display id (else ref), total in BRL, store name."""
    merchant = (order.extra or {}).get("merchant_name") if isinstance(order.extra, dict) else ""
    return [first_name(order.customer_name), order.display_id or order.ref, brl(order.total_q), str(merchant or store_name)]
