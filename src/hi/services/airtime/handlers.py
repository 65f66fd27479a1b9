"""Issuing vouchers: a confirmed order's airtime lines become airtime.issue directives, each buying one voucher per unit, once per reference."""
from __future__ import annotations

from hi.integrations.api import (
    Directive,
    DirectiveFailed,
    DirectiveHandler,
    Event,
    EventHook,
    Integration,
    ProviderRejected,
    attribute_values,
    enqueue,
)
from hi.orders.models import Order

from . import vouchers
from .attributes import parse_product_map
from .client import client_for
from .models import Voucher

TOPIC_ISSUE = "airtime.issue"


def issue_when_confirmed(event: Event, integration: Integration) -> None:
    """order.status_changed to confirmed: one airtime.issue directive per line whose SKU the product map names."""
    if event.data.get("new_status") != "confirmed":
        return
    order = Order.objects.filter(workspace_id=event.workspace_id, ref=event.data.get("ref")).first()
    try:
        products = parse_product_map(attribute_values(integration)["product_map"])
    except ValueError:
        return  # an integration not configured yet buys nothing
    for item in order.items.filter(sku__in=list(products)) if order else []:
        enqueue(integration, TOPIC_ISSUE, {"order": order.ref, "line": item.position}, dedupe_key=f"issue:{order.ref}:{item.position}")


def issue_line(directive: Directive) -> None:
    """Buy the line's vouchers unit by unit; a unit the provider already answered for is not asked again, and its reference stops a second purchase."""
    integration, payload = directive.integration, directive.payload
    order = Order.objects.filter(workspace_id=integration.workspace_id, ref=payload["order"]).first()
    item = order.items.filter(position=payload["line"]).first() if order else None
    if item is None:
        raise DirectiveFailed(f"Order {payload['order']} has no line {payload['line']} any more.")
    product = parse_product_map(attribute_values(integration)["product_map"]).get(item.sku)
    if product is None:
        raise DirectiveFailed(f"SKU {item.sku} is no longer an airtime product of this integration.")
    if item.quantity != int(item.quantity) or item.quantity < 1:
        raise DirectiveFailed(f"Line {item.position} asks for {item.quantity} vouchers: only whole numbers can be bought.")
    phone, client = vouchers.phone_of(order), client_for(integration)
    for unit in range(1, int(item.quantity) + 1):
        voucher = vouchers.unit_voucher(integration, order, item, unit, product)
        if voucher.status != Voucher.Status.QUEUED:
            continue  # answered already: pending ones are the scheduled check's
        if not phone or voucher.amount_q <= 0:
            vouchers.fail(voucher, f"The order's phone number {order.customer_phone!r} cannot receive airtime." if not phone else "The line has no price.")
            continue
        try:
            answer = client.issue(product, phone, vouchers.money(voucher.amount_q), voucher.currency, voucher.reference)
        except ProviderRejected as exc:
            if not (exc.status and 400 <= exc.status < 500):
                raise  # an answer hi cannot read: the purchase may have happened, so it is not called failed
            vouchers.fail(voucher, str(exc))  # refused (a 4xx): asking again would not change it
            continue
        vouchers.record(voucher, answer)


# Retried on the default schedule (5 s, 30 s, 2 min, ... 24 h): an outage delays a voucher, the reference keeps it single.
ISSUE_HANDLER = DirectiveHandler(TOPIC_ISSUE, issue_line)
CONFIRMED_HOOK = EventHook("order.status_changed", issue_when_confirmed)
