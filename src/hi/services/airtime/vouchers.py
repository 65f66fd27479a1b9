"""A voucher's life in hi: its row per unit, the provider's answer kept (the code encrypted), and a final status published and told to the order."""
from __future__ import annotations

import logging
import re
from decimal import Decimal

from django.db import transaction

from hi.integrations.api import Integration, clean_text, encrypt, log, publish, redact_text
from hi.orders import api as orders
from hi.orders.models import Order, OrderItem

from .client import PROVIDER, Transaction
from .models import Voucher

MAX_MESSAGE = 500
logger = logging.getLogger(__name__)


def money(cents: int) -> str:
    """Integer cents as the provider's decimal string: 1000 → "10.00" (never a float)."""
    return f"{Decimal(cents) / 100:.2f}"


def phone_of(order: Order) -> str:
    """The order's phone as the provider takes it: its digits, a leading + kept ('' when it has not 8 to 15 digits)."""
    raw = (order.customer_phone or "").strip()
    digits = re.sub(r"\D", "", raw)
    return ("+" if raw.startswith("+") else "") + digits if 8 <= len(digits) <= 15 else ""


def unit_voucher(integration: Integration, order: Order, item: OrderItem, unit: int, product_id: str) -> Voucher:
    """The voucher of one unit of a line, created queued the first time; its reference is the same on every attempt."""
    voucher, _ = Voucher.objects.get_or_create(
        integration=integration, reference=f"{order.ref}:{item.position}:{unit}",
        defaults={"order": order, "line": item.position, "unit": unit, "sku": item.sku, "product_id": product_id,
                  "amount_q": item.unit_price_q, "currency": orders.CURRENCY},
    )
    return voucher


def record(voucher: Voucher, answer: Transaction) -> None:
    """Keep the provider's answer; a final one is published and told to the order's history, in the same transaction."""
    code = answer.voucher_code if answer.status == Voucher.Status.SUCCESS else ""
    with transaction.atomic():
        voucher.status, voucher.transaction_id = answer.status, clean_text(answer.transaction_id, 100)
        voucher.code = encrypt(code) if code else ""
        # A provider's message may quote the code: it never reaches a row, a page or an event in clear.
        voucher.message = clean_text(redact_text(answer.message, [code]) if code else answer.message, MAX_MESSAGE)
        voucher.save()
        if voucher.status != Voucher.Status.PENDING:
            settled(voucher)


def fail(voucher: Voucher, why: str) -> None:
    """A voucher hi cannot buy (or the provider refused outright): failed, published, told to the order."""
    with transaction.atomic():
        voucher.status, voucher.message = Voucher.Status.FAILED, clean_text(why, MAX_MESSAGE)
        voucher.save()
        settled(voucher)


def settled(voucher: Voucher) -> None:
    """Publish voucher.issued or voucher.failed, and write the outcome in the order's history (the code masked)."""
    data = {
        "order": voucher.order.ref, "reference": voucher.reference, "transaction_id": voucher.transaction_id, "sku": voucher.sku,
        "product_id": voucher.product_id, "amount": money(voucher.amount_q), "currency": voucher.currency,
        "code": voucher.masked_code, "message": voucher.message,
    }
    which = f"line {voucher.line}, unit {voucher.unit}"
    if voucher.status == Voucher.Status.SUCCESS:
        publish("voucher.issued", data, voucher.order.workspace_id, integration=voucher.integration)
        text = f"Airtime voucher {voucher.masked_code} issued ({which}, {voucher.product_id}, {data['amount']} {voucher.currency})."
    else:
        publish("voucher.failed", data, voucher.order.workspace_id, integration=voucher.integration)
        text = f"Airtime voucher failed ({which}, {voucher.product_id}): {voucher.message or 'no reason given'}"
    # The same line, code masked, in the order's history, the integration's log and the server's log.
    orders.record(voucher.order, "airtime_voucher", text, actor=PROVIDER, integration=voucher.integration, data={"reference": voucher.reference})
    log(voucher.integration, "info" if voucher.status == Voucher.Status.SUCCESS else "warning", f"{voucher.order.ref}: {text}")
    logger.info("%s: %s", voucher.order.ref, text)
