"""What the WhatsApp service remembers per integration: the phone number's state, and when each customer may be written to next."""
from __future__ import annotations

from django.db import models

from hi.integrations.api import Integration, RedactedTextField


class PhoneState(models.Model):
    """One row per WhatsApp integration: the business number as Meta last described it."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="whatsapp_phone")
    display_phone_number = models.CharField(max_length=40, blank=True, default="")
    verified_name = models.CharField(max_length=200, blank=True, default="")
    #: GREEN, YELLOW, RED (or UNKNOWN): Meta's rating of recent messages; RED limits how many customers it may reach.
    quality_rating = models.CharField(max_length=20, blank=True, default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    last_error = RedactedTextField(blank=True, default="")

    def __str__(self) -> str:
        """Whose WhatsApp phone it is."""
        return f"WhatsApp phone of {self.integration_id}"


class Pace(models.Model):
    """When the next message to one customer may leave (Meta allows about one every 6 s per customer: 131056)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="whatsapp_paces")
    wa_id = models.CharField(max_length=32)
    next_send_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "wa_id"], name="one_pace_per_customer")]

    def __str__(self) -> str:
        """The customer and when hi may send them the next message."""
        return f"{self.wa_id} after {self.next_send_at:%H:%M:%S}"


def phone_of(integration: Integration) -> PhoneState:
    """The integration's phone row, created on first use."""
    state, _ = PhoneState.objects.get_or_create(integration=integration)
    return state
