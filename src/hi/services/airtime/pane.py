"""What operators see: the pane (the provider's balance, asked live and briefly; products; vouchers) and each order's vouchers."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations.api import Integration, ProviderError, attribute_values, count_by_status
from hi.orders.models import Order

from .client import client_for
from .models import Voucher


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane template's context."""
    try:
        # Asked for 3 s at most: the manage page must not hang on the provider.
        balance, balance_error = client_for(integration, timeout_s=3.0).balance(), ""
    except ProviderError as exc:
        balance, balance_error = {}, str(exc)
    vouchers = Voucher.objects.filter(integration=integration)
    shown = {k: v for k, v in attribute_values(integration).items() if k in ("api_base_url", "product_map")}  # no secret
    return {"integration": integration, **shown, "balance": balance, "balance_error": balance_error,
            "counts": count_by_status(vouchers), "recent": vouchers.select_related("order").order_by("-updated_at")[:10]}


def order_panel(request: HttpRequest, order: Order) -> str:
    """The order page's Airtime vouchers panel: each voucher's status and masked code ('' for an order without any)."""
    vouchers = list(Voucher.objects.filter(order=order))
    return render_to_string("airtime/order_panel.html", {"vouchers": vouchers}, request=request) if vouchers else ""
