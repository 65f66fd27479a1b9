"""What the airtime pane shows: the provider's balance (asked live, briefly), the products and the vouchers by status."""
from __future__ import annotations

from typing import Any

from hi.integrations.api import Integration, ProviderError, attribute_values, count_by_status

from .attributes import parse_product_map
from .client import client_for
from .models import Voucher

#: The pane waits this long for the balance: the manage page must not hang on the provider.
BALANCE_TIMEOUT_S = 3.0


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane template's context."""
    values = attribute_values(integration)
    try:
        balance, balance_error = client_for(integration, timeout_s=BALANCE_TIMEOUT_S).balance(), ""
    except ProviderError as exc:
        balance, balance_error = {}, str(exc)
    try:
        products = parse_product_map(values["product_map"])
    except ValueError:
        products = {}
    vouchers = Voucher.objects.filter(integration=integration)
    return {
        "integration": integration, "api_base_url": values["api_base_url"], "balance": balance, "balance_error": balance_error,
        "products": sorted(products.items()), "counts": count_by_status(vouchers),
        "recent": vouchers.select_related("order").order_by("-updated_at")[:10],
    }
