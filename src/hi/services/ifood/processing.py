"""Applying iFood events to hi's orders: PLC fetches the order, status codes move it, CAR asks the operator."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from hi.integrations.api import BatchItem, InboundEvent, Integration, ItemInvalid, ProviderDataError, clean_text, is_clean_text, loads
from hi.orders import api as orders
from hi.orders.errors import IllegalTransition
from hi.orders.models import Order

from .mapping import parse_time

logger = logging.getLogger(__name__)
ACTOR = "ifood"
Status = InboundEvent.Status

#: The ORDER_STATUS group: the hi status each code means. SPS (separation started, grocery) is iFood's
#: "preparing" for markets; CON arrives up to ~2 h after delivery. https://developer.ifood.com.br/en-US/docs/guides/modules/order/events
STATUS_CODES = {
    "CFM": "confirmed",
    "PRS": "preparing",
    "SPS": "preparing",
    "RTP": "ready",
    "DSP": "dispatched",
    "CON": "completed",
    "CAN": "cancelled",
}
CANCELLATION_CODES = ("CAR", "CARF")
#: Codes about an order that hi acts on (the others are acknowledged and kept in the inbound log).
ORDER_CODES = frozenset({"PLC", *STATUS_CODES, *CANCELLATION_CODES})


#: Order.external_id's size: a longer orderId cannot name an order.
MAX_ORDER_ID = 100


def event_time(event: Any) -> str:
    """A sort key for events: createdAt as an aware UTC ISO string ('' sorts first, unreadable items too)."""
    moment = parse_time(event.get("createdAt")) if isinstance(event, dict) else None
    return moment.isoformat() if moment else ""


def identify(event: Any) -> BatchItem:
    """One iFood event's id and code; ItemInvalid (keeping what was readable) when hi cannot act on it."""
    if not isinstance(event, dict):
        raise ItemInvalid("not a JSON object")
    event_id = event.get("id") if isinstance(event.get("id"), str) else ""
    code = event.get("code")
    if not isinstance(code, str) or not code:
        raise ItemInvalid("it has no code", event_id=event_id)
    if not event_id:
        raise ItemInvalid("it has no id", event_type=code)
    order_id = event.get("orderId")
    if order_id is not None and not (isinstance(order_id, str) and len(order_id) <= MAX_ORDER_ID and is_clean_text(order_id)):
        raise ItemInvalid(f"orderId {clean_text(repr(order_id), 80)} is not an order id", event_id=event_id, event_type=code)
    created = event.get("createdAt")
    if created is not None and parse_time(created) is None:
        raise ItemInvalid(f"createdAt {clean_text(repr(created), 80)} is not a time hi can read", event_id=event_id, event_type=code)
    return BatchItem(event_id, code)


def describe(event: dict[str, Any]) -> str:
    """'iFood CONFIRMED' for the history."""
    return f"iFood {event.get('fullCode') or event.get('code')}"


def apply_event(integration: Integration, event: dict[str, Any]) -> None:
    """Act on one stored iFood event, once, in the worker (duplicates never reach here)."""
    from .handlers import queue_fetch

    code = str(event.get("code") or "")
    order_id = str(event.get("orderId") or "")
    if code not in ORDER_CODES or not order_id:
        return  # acknowledged and kept in the inbound log; nothing in hi depends on it
    order = Order.objects.filter(source=integration, external_id=order_id).first()
    if order is None:
        # PLC, or an event that overtook it: the details are fetched (404 right after PLC is normal),
        # and creating the order replays every stored event of it in createdAt order.
        queue_fetch(integration, order_id)
        return
    if code != "PLC":
        apply_to_order(integration, order, event)


def apply_to_order(integration: Integration, order: Order, event: dict[str, Any]) -> None:
    """Change the order as the event says: a status walk, or a cancellation request shown to the operator."""
    code = str(event.get("code"))
    if code == "CAR":
        metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        reason = " — ".join(str(metadata.get(k)) for k in ("reason_code", "details") if metadata.get(k)) or "no reason given"
        origin = metadata.get("ORIGIN") or metadata.get("origin")
        orders.set_cancellation_request(order, f"{reason} (from {origin})" if origin else reason, actor=ACTOR, integration=integration)
        return
    if code == "CARF":
        # Our own request failed (the wait ends) or the customer's did (its banner goes): say it once.
        message = "iFood: the cancellation request failed"
        if order.awaiting_label:
            orders.clear_awaiting(order, actor=ACTOR, integration=integration, message=message)
        if order.cancellation_request_reason:
            orders.clear_cancellation_request(order, actor=ACTOR, integration=integration, message=message)
        return
    target = STATUS_CODES[code]
    if order.status == target:
        return
    steps = orders.path_to(order.status, target)
    if code == "CON" and order.type == "delivery" and "dispatched" not in steps and "ready" in [order.status, *steps]:
        # A delivery concluded before hi saw it leave (iFood's own couriers): it went out, not picked up.
        steps = orders.path_to(order.status, "dispatched") + ["delivered", "completed"]
    if not steps:
        # Out of order or late (CFM after RTP, anything after CAN): kept in the history, status unchanged.
        orders.record(
            order, "provider_event", f"{describe(event)} arrived while the order was {order.status}; status unchanged",
            actor=ACTOR, integration=integration, data={"event_id": event.get("id"), "code": code},
        )
        return
    at = parse_time(event.get("createdAt"))
    for step in steps:
        # Intermediate steps are implied (DSP on a confirmed order means it was prepared and ready).
        note = describe(event) if step == target else f"implied by {describe(event)}"
        try:
            orders.transition(order, step, actor=ACTOR, integration=integration, note=note, at=at)
        except IllegalTransition:  # another event moved the order meanwhile: record, never fail the row
            logger.info("iFood %s for order %s no longer applies (now %s)", code, order.ref, order.status)
            return


def stored_events(integration: Integration, order_id: str, since: datetime) -> list[dict[str, Any]]:
    """The stored events of one iFood order received since `since`, oldest createdAt first (to replay after the order exists)."""
    rows = InboundEvent.objects.filter(
        integration=integration, received_at__gte=since, status__in=[Status.ACCEPTED, Status.PROCESSED],
        event_type__in=ORDER_CODES, body__contains=order_id,
    ).values_list("body", flat=True)
    events = []
    for body in rows:
        try:
            event = loads(body)
        except ProviderDataError:
            continue
        if isinstance(event, dict) and event.get("orderId") == order_id and event.get("code") in ORDER_CODES:
            events.append(event)
    return sorted(events, key=event_time)


def replay(integration: Integration, order: Order, since: datetime) -> None:
    """Apply the events stored before the order existed, in createdAt order (duplicates are no-ops)."""
    for event in stored_events(integration, order.external_id, since):
        if event.get("code") != "PLC":
            order.refresh_from_db()
            apply_to_order(integration, order, event)
