"""The orders hub's API for integrations and the console: create, move, annotate (events after commit)."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from hi.integrations.api import Integration, clean_text, publish

from .data import OrderData, bounded
from .errors import IllegalTransition
from .flow import TERMINAL, is_legal, path_to  # noqa: F401 - path_to is part of this API
from .models import STATUS_TIMESTAMPS, Order, OrderEvent, OrderItem, OrderStatus

__all__ = [
    "create_order", "transition", "record", "set_awaiting", "clear_awaiting",
    "set_cancellation_request", "clear_cancellation_request", "path_to",
]

CURRENCY = "BRL"
#: A fresh ref colliding with an existing one is astronomically rare; try a few times anyway.
REF_ATTEMPTS = 5
#: Longest history message and cancellation reason kept (services quote providers in them).
MAX_MESSAGE = 4000


def _existing(source: Integration | None, external_id: str) -> Order | None:
    """The order already created for (source, external_id), if any."""
    if source is None or not external_id:
        return None
    return Order.objects.filter(source=source, external_id=external_id).first()


def _created_data(order: Order, item_count: int) -> dict[str, Any]:
    """The order.created event's data."""
    return {
        "ref": order.ref,
        "source": str(order.source_id) if order.source_id else None,
        "source_type": order.source_type,
        "external_id": order.external_id,
        "display_id": order.display_id,
        "type": order.type,
        "status": order.status,
        "customer_name": order.customer_name,
        "total_q": order.total_q,
        "currency": CURRENCY,
        "items": item_count,
    }


def _insert(workspace, data: OrderData, source: Integration | None) -> Order:
    """Insert the order and its items (in the caller's savepoint)."""
    placed_at = data.placed_at or timezone.now()
    order = Order.objects.create(
        workspace=workspace,
        source=source,
        source_type=source.integration_type if source else "",
        source_label=source.name if source else "",
        external_id=data.external_id,
        display_id=data.display_id,
        type=data.type,
        customer_name=data.customer_name,
        customer_phone=data.customer_phone,
        delivery_address=dict(data.delivery_address or {}),
        subtotal_q=data.subtotal_q,
        delivery_fee_q=data.delivery_fee_q,
        additional_fees_q=data.additional_fees_q,
        discount_q=data.discount_q,
        total_q=data.total_q,
        payments=[asdict(p) for p in data.payments],
        placed_at=placed_at,
        notes=data.notes,
        extra=dict(data.extra or {}),
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order, position=n, sku=item.sku, name=item.name, quantity=item.quantity,
            unit_price_q=item.unit_price_q, options=[dict(o) for o in item.options], notes=item.notes, total_q=item.total_q,
        )
        for n, item in enumerate(data.items)
    )
    return order


def create_order(workspace, data: OrderData, *, source: Integration | None, actor: str) -> tuple[Order, bool]:
    """Create an order once per (source, external_id): a repeat returns (existing, False) and changes nothing."""
    # The data is bounded first (data.bounded): OrderDataInvalid, before anything is stored, for what cannot be.
    data, adjustments = bounded(data)
    existing = _existing(source, data.external_id)
    if existing is not None:
        return existing, False
    with transaction.atomic():
        for attempt in range(REF_ATTEMPTS):
            try:
                # A savepoint: a concurrent creator that won the constraint undoes only this insert.
                with transaction.atomic():
                    order = _insert(workspace, data, source)
                break
            except IntegrityError:
                existing = _existing(source, data.external_id)
                if existing is not None:
                    return existing, False
                if attempt == REF_ATTEMPTS - 1:
                    raise
        label = f"from {order.source_label}" if source else "by hand"
        record(order, "created", f"Order {order.ref} created {label}.", actor=actor, integration=source)
        if data.totals_problem:
            record(order, "totals_problem", data.totals_problem, actor=actor, integration=source)
        if adjustments:
            record(order, "data_adjusted", f"Stored with changes: {'; '.join(adjustments)}.", actor=actor, integration=source)
        publish("order.created", _created_data(order, len(data.items)), workspace, integration=source)
    return order, True


def transition(
    order: Order,
    new_status: str,
    *,
    actor: str,
    integration: Integration | None = None,
    note: str = "",
    at: datetime | None = None,
) -> bool:
    """Move the order to `new_status`; False if it is already there; IllegalTransition (nothing changed) if forbidden."""
    new_status = OrderStatus(new_status)
    with transaction.atomic():
        # Locked and re-read: two events for one order (or an operator and an event) must not interleave.
        current = Order.objects.select_for_update().get(pk=order.pk)
        old_status = current.status
        if old_status == new_status:
            order.refresh_from_db()
            return False
        if not is_legal(old_status, new_status):
            order.refresh_from_db()
            raise IllegalTransition(current.ref, old_status, new_status)
        when = at or timezone.now()
        current.status = new_status
        setattr(current, STATUS_TIMESTAMPS[new_status], when)
        current.awaiting_label, current.awaiting_since = "", None
        fields = ["status", STATUS_TIMESTAMPS[new_status], "awaiting_label", "awaiting_since", "updated_at"]
        if new_status in TERMINAL:
            # A pending cancellation request is settled by the order ending, whichever way.
            current.cancellation_request_reason, current.cancellation_requested_at = "", None
            fields += ["cancellation_request_reason", "cancellation_requested_at"]
        current.save(update_fields=fields)
        message = f"{OrderStatus(old_status).label} → {new_status.label}" + (f": {note}" if note else "")
        OrderEvent.objects.create(
            order=current, kind="status_changed", message=message, old_status=old_status, new_status=new_status,
            actor=actor, integration=integration, data={"at": when.isoformat()},
        )
        publish(
            "order.status_changed",
            {
                "ref": current.ref,
                "source": str(current.source_id) if current.source_id else None,
                "external_id": current.external_id,
                "display_id": current.display_id,
                "old_status": old_status,
                "new_status": str(new_status),
                "at": when.isoformat(),
            },
            current.workspace_id,
            integration=integration,
        )
    order.refresh_from_db()
    return True


def record(
    order: Order, kind: str, message: str, *, actor: str, integration: Integration | None = None, data: dict | None = None
) -> OrderEvent:
    """Append one history entry (its message made safe and bounded: services quote providers in it)."""
    return OrderEvent.objects.create(
        order=order, kind=kind, message=clean_text(message, MAX_MESSAGE), actor=actor, integration=integration, data=data or {},
    )


def _update(order: Order, message_kind: str, message: str, *, actor: str, integration, **fields: Any) -> None:
    """Set fields on the order and record why, in one transaction."""
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now(), **fields)
        for name, value in fields.items():
            setattr(order, name, value)
        record(order, message_kind, message, actor=actor, integration=integration)


def set_awaiting(order: Order, action_label: str, *, actor: str, integration: Integration | None = None) -> None:
    """Show "waiting for <source>" on the order until the next transition or clear_awaiting()."""
    _update(
        order, "awaiting", f"{action_label}: sent to {order.source_name}; waiting for its confirmation.",
        actor=actor, integration=integration, awaiting_label=action_label[:120], awaiting_since=timezone.now(),
    )


def clear_awaiting(order: Order, *, actor: str, integration: Integration | None = None, message: str = "") -> None:
    """Remove the "waiting for" marker (the provider refused, or the action was abandoned)."""
    text = message or f"No longer waiting for {order.source_name}."
    _update(order, "awaiting_cleared", text, actor=actor, integration=integration, awaiting_label="", awaiting_since=None)


def set_cancellation_request(order: Order, reason: str, *, actor: str, integration: Integration | None = None) -> None:
    """A customer or marketplace asked to cancel: the page shows it with the source's accept / deny actions."""
    reason = clean_text(reason, MAX_MESSAGE)
    _update(
        order, "cancellation_requested", f"Cancellation requested: {reason}" if reason else "Cancellation requested.",
        actor=actor, integration=integration, cancellation_request_reason=reason, cancellation_requested_at=timezone.now(),
    )


def clear_cancellation_request(order: Order, *, actor: str, integration: Integration | None = None, message: str = "") -> None:
    """The cancellation request was settled (denied, withdrawn) without the order ending."""
    _update(
        order, "cancellation_request_cleared", message or "Cancellation request closed.",
        actor=actor, integration=integration, cancellation_request_reason="", cancellation_requested_at=None,
    )
