"""The webhooks service's rows: one delivery per event and endpoint, its attempts, retired secrets."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from hi.integrations.api import Directive, Event, Integration, RedactedTextField
from hi.workspaces.models import Workspace


class Delivery(models.Model):
    """One event on its way to one endpoint: what is sent (the same bytes on every attempt) and how it went."""

    class Status(models.TextChoices):
        """Where a delivery is."""

        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (endpoint disabled)"

    class Kind(models.TextChoices):
        """What was sent: an event, a test event an operator asked for, or a set-up ping."""

        EVENT = "event", "Event"
        TEST = "test", "Test event"
        PING = "ping", "Ping (connection test)"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="webhook_deliveries")
    # The event may be pruned before its deliveries: what is sent is copied below.
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_type = models.CharField(max_length=100)
    # Pings (a connection test's, an activation's) are logged too, so the receiver's side of set-up is visible;
    # they are never resent, recovered or counted against the endpoint by auto-disable.
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.EVENT)
    # The webhook-id: the same on every attempt and every resend (the receiver's idempotency key).
    message_id = models.CharField(max_length=64, unique=True)
    timestamp = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = RedactedTextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The directive sending it now (or last): a resend points it at a new one.
    directive = models.ForeignKey(Directive, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "integration"], condition=Q(event__isnull=False), name="one_webhook_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["integration", "-created_at"]),
            models.Index(fields=["integration", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        """The event type, the endpoint and the status."""
        return f"{self.event_type} → {self.integration_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: the request as sent (secrets redacted, body cut), the answer and its latency."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    number = models.PositiveIntegerField()
    url = models.TextField()
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True, default="")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = RedactedTextField(blank=True, default="")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = RedactedTextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["integration", "at"])]


class RetiredSecret(models.Model):
    """A signing secret replaced by a rotation, still signed with (and accepted) until it expires."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    # Fernet-encrypted like every stored secret (the framework's core/crypto.py).
    value = models.TextField()
    retired_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-retired_at"]
