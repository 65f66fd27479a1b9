"""Orders, their line items and their append-only history; money in integer cents (*_q)."""
from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from hi.integrations.api import Integration, IntegrationType
from hi.workspaces.models import Workspace

#: Unambiguous characters for the random part of a ref (no 0/O, 1/I).
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_ref() -> str:
    """A fresh order reference, ORD-YYYYMMDD-XXXXXXXX (the date in UTC)."""
    random_part = "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
    return f"ORD-{timezone.now():%Y%m%d}-{random_part}"


class OrderStatus(models.TextChoices):
    """Where an order is; flow.TRANSITIONS holds the legal moves."""

    NEW = "new", "New"
    CONFIRMED = "confirmed", "Confirmed"
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready"
    DISPATCHED = "dispatched", "Dispatched"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class OrderType(models.TextChoices):
    """How the order reaches the customer."""

    DELIVERY = "delivery", "Delivery"
    TAKEOUT = "takeout", "Takeout"
    DINE_IN = "dine_in", "Dine-in"


#: The timestamp field each status sets when the order enters it.
STATUS_TIMESTAMPS: dict[str, str] = {
    OrderStatus.NEW: "placed_at",
    OrderStatus.CONFIRMED: "confirmed_at",
    OrderStatus.PREPARING: "preparing_at",
    OrderStatus.READY: "ready_at",
    OrderStatus.DISPATCHED: "dispatched_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.COMPLETED: "completed_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


class Order(models.Model):
    """One order of a workspace, from an integration or made by hand in the console."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="orders")
    ref = models.CharField(max_length=32, unique=True, default=new_ref, editable=False)
    # Kept (set to null) when the integration is removed; source_type and source_label keep the history readable.
    source = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    source_type = models.CharField(max_length=32, blank=True, default="")
    source_label = models.CharField(max_length=120, blank=True, default="")
    external_id = models.CharField(max_length=100, blank=True, default="")
    display_id = models.CharField(max_length=40, blank=True, default="")
    type = models.CharField(max_length=10, choices=OrderType.choices, default=OrderType.DELIVERY)
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.NEW)
    customer_name = models.CharField(max_length=200, blank=True, default="")
    customer_phone = models.CharField(max_length=60, blank=True, default="")
    delivery_address = models.JSONField(default=dict, blank=True)
    subtotal_q = models.BigIntegerField(default=0)
    delivery_fee_q = models.BigIntegerField(default=0)
    additional_fees_q = models.BigIntegerField(default=0)
    discount_q = models.BigIntegerField(default=0)
    total_q = models.BigIntegerField(default=0)
    # [{"method", "prepaid", "amount_q", "change_for_q", "detail"}]
    payments = models.JSONField(default=list, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    preparing_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # "Waiting for <source>": an action was sent to the provider and its confirming event has not come yet.
    awaiting_label = models.CharField(max_length=120, blank=True, default="")
    awaiting_since = models.DateTimeField(null=True, blank=True)
    # The customer or the marketplace asked to cancel; the operator accepts or denies.
    cancellation_request_reason = models.TextField(blank=True, default="")
    cancellation_requested_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="one_order_per_source_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="order_ws_created"),
            models.Index(fields=["workspace", "status", "-created_at"], name="order_ws_status_created"),
            models.Index(fields=["workspace", "source", "-created_at"], name="order_ws_source_created"),
            models.Index(fields=["workspace", "display_id"], name="order_ws_display_id"),
            # Services look orders up by (source, external_id) on every event; SQLite cannot use the
            # unique constraint's partial index for that lookup.
            models.Index(fields=["source", "external_id"], name="order_source_external_id"),
        ]

    def __str__(self) -> str:
        """The order's ref."""
        return self.ref

    def get_absolute_url(self) -> str:
        """The order page."""
        return reverse("order-detail", args=[self.ref])

    @property
    def is_terminal(self) -> bool:
        """Whether no status can follow (completed or cancelled)."""
        from .flow import TERMINAL  # flow.py builds on this module

        return self.status in TERMINAL

    @property
    def source_name(self) -> str:
        """What the console calls the source: the type's label ('iFood'), else the stored label, else 'hand'."""
        if self.source_type:
            try:
                return IntegrationType.from_id(self.source_type).label
            except ValueError:
                pass
        return self.source_label or "hand"


class OrderItem(models.Model):
    """One line of an order; options are [{"name", "quantity", "unit_price_q", "total_q", "sku"}]."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    sku = models.CharField(max_length=100, blank=True, default="")
    name = models.CharField(max_length=255)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_price_q = models.BigIntegerField(default=0)
    options = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, default="")
    total_q = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        """Quantity × name."""
        return f"{self.quantity} × {self.name}"


class OrderEvent(models.Model):
    """Append-only history of an order: what happened, who did it, when, from which integration."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=40)
    message = models.TextField(blank=True, default="")
    old_status = models.CharField(max_length=12, blank=True, default="")
    new_status = models.CharField(max_length=12, blank=True, default="")
    actor = models.CharField(max_length=150)
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "-created_at"], name="orderevent_order_created")]

    def __str__(self) -> str:
        """The order and the kind of event."""
        return f"{self.order_id} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        """Insert only: history is never rewritten."""
        if not self._state.adding:
            raise ValueError("Order history is append-only.")
        super().save(*args, **kwargs)
