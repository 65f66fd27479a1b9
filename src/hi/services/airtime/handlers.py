"""Issuing vouchers: a confirmed order's airtime lines become airtime.issue directives buying one voucher per unit, once per reference."""
from __future__ import annotations

from django.db import transaction

from hi.integrations import api
from hi.messaging.phones import InvalidPhone, personal
from hi.orders import api as orders
from hi.orders.models import Order

from .attributes import parse_product_map
from .client import PROVIDER, AirtimeClient, Transaction, client_for
from .models import Voucher

TOPIC_ISSUE = "airtime.issue"


def issue_when_confirmed(event: api.Event, integration: api.Integration) -> None:
    """order.status_changed to confirmed: one airtime.issue directive per line whose SKU the product map names."""
    order = Order.objects.filter(workspace_id=event.workspace_id, ref=event.data.get("ref")).first()
    if event.data.get("new_status") != "confirmed" or order is None:
        return
    products = parse_product_map(api.attribute_values(integration)["product_map"])  # checked when it was saved
    for item in order.items.filter(sku__in=list(products)):
        api.enqueue(integration, TOPIC_ISSUE, {"order": order.ref, "line": item.position}, dedupe_key=f"issue:{order.ref}:{item.position}")


def issue_line(directive: api.Directive) -> None:
    """Buy the line's vouchers unit by unit: a unit already answered is not asked again, and its reference stops a second purchase."""
    integration, order_ref, line = directive.integration, directive.payload["order"], directive.payload["line"]
    order = Order.objects.filter(workspace_id=integration.workspace_id, ref=order_ref).first()
    item = order.items.filter(position=line).first() if order else None
    product = parse_product_map(api.attribute_values(integration)["product_map"]).get(item.sku) if item else None
    if product is None:
        raise api.DirectiveFailed(f"Order {order_ref} has no line {line} whose SKU is an airtime product of this integration.")
    if item.quantity != int(item.quantity) or item.quantity < 1:
        raise api.DirectiveFailed(f"Line {line} asks for {item.quantity} vouchers: only whole numbers can be bought.")
    client = client_for(integration)
    for unit in range(1, int(item.quantity) + 1):
        # The unit's voucher, created queued the first time; its reference is the same on every attempt.
        voucher = Voucher.objects.get_or_create(integration=integration, reference=f"{order.ref}:{line}:{unit}", defaults={
            "order": order, "line": line, "unit": unit, "sku": item.sku, "product_id": product, "amount_q": item.unit_price_q,
            "currency": orders.CURRENCY})[0]
        if voucher.status == Voucher.Status.QUEUED:  # not answered yet; a pending one is the scheduled check's
            record(voucher, buy(client, voucher))


def buy(client: AirtimeClient, voucher: Voucher) -> Transaction:
    """The provider's answer for one voucher, or hi's own failure when it cannot be bought or the provider refused it."""
    try:
        phone = personal(voucher.order.customer_phone)  # E.164, a customer's own number
    except InvalidPhone as exc:
        return Transaction("", Voucher.Status.FAILED, "", f"The order's phone number cannot receive airtime: {exc}")
    try:
        return client.issue(voucher.product_id, phone, voucher.amount, voucher.currency, voucher.reference)
    except api.ProviderRejected as exc:
        if not (exc.status and 400 <= exc.status < 500):
            raise  # an answer hi cannot read: the purchase may have happened, so it is not called failed
        return Transaction("", Voucher.Status.FAILED, "", str(exc))  # refused (a 4xx): asking again would not change it


def record(voucher: Voucher, answer: Transaction) -> None:
    """Keep the provider's answer, or hi's own failure (its message without the code it may quote); a final one is published too."""
    code = answer.voucher_code if answer.status == Voucher.Status.SUCCESS else ""
    with transaction.atomic():
        voucher.status, voucher.transaction_id = answer.status, api.clean_text(answer.transaction_id, 100)
        voucher.code, voucher.message = api.encrypt(code) if code else "", api.clean_text(api.redact_text(answer.message, [code]), 500)
        voucher.save()
        if voucher.status != Voucher.Status.PENDING:
            settled(voucher)


def settled(voucher: Voucher) -> None:
    """Publish voucher.issued or voucher.failed; say it, the code masked, in the order's history and the integration's log."""
    data = {"order": voucher.order.ref, "reference": voucher.reference, "transaction_id": voucher.transaction_id, "sku": voucher.sku,
            "product_id": voucher.product_id, "amount": voucher.amount, "currency": voucher.currency, "code": voucher.masked_code,
            "message": voucher.message}
    what = f"line {voucher.line}, unit {voucher.unit}, {voucher.product_id}, {voucher.amount} {voucher.currency}"
    if voucher.status == Voucher.Status.SUCCESS:
        api.publish("voucher.issued", data, voucher.order.workspace_id, integration=voucher.integration)
        text = f"Airtime voucher {voucher.masked_code} issued ({what})."
    else:
        api.publish("voucher.failed", data, voucher.order.workspace_id, integration=voucher.integration)
        text = f"Airtime voucher failed ({what}): {voucher.message or 'no reason given'}"
    orders.record(voucher.order, "airtime_voucher", text, actor=PROVIDER, integration=voucher.integration,
                  data={"reference": voucher.reference})
    api.log(voucher.integration, "info" if voucher.status == Voucher.Status.SUCCESS else "warning", f"{voucher.order.ref}: {text}")


# Retried on the default schedule (5 s, 30 s, 2 min, ... 24 h): an outage delays a voucher, its reference keeps it single.
ISSUE_HANDLER = api.DirectiveHandler(TOPIC_ISSUE, issue_line)
CONFIRMED_HOOK = api.EventHook("order.status_changed", issue_when_confirmed)
