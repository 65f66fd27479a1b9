"""What the iFood service remembers per integration: how polling, acknowledgment and merchants are doing."""
from __future__ import annotations

from django.db import models

from hi.integrations.api import Integration, RedactedTextField


class ServiceState(models.Model):
    """One row per iFood integration: the last poll, acknowledgment failures and the merchants' status."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="ifood_state")
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_ok = models.BooleanField(default=True)
    last_poll_events = models.PositiveIntegerField(default=0)
    last_poll_error = RedactedTextField(blank=True, default="")
    #: iFood's strike rule answers 429 for a while: no polling until then. https://developer.ifood.com.br/pt-BR/docs/guides/modules/events/polling-overview
    blocked_until = models.DateTimeField(null=True, blank=True)
    ack_failures = models.PositiveIntegerField(default=0)
    last_ack_failure_at = models.DateTimeField(null=True, blank=True)
    last_ack_error = RedactedTextField(blank=True, default="")
    #: {merchant id: [status per operation, as iFood reports it]}.
    merchant_status = models.JSONField(default=dict, blank=True)
    merchant_status_at = models.DateTimeField(null=True, blank=True)
    merchant_status_error = RedactedTextField(blank=True, default="")

    def __str__(self) -> str:
        """Whose iFood state it is."""
        return f"iFood state of {self.integration_id}"


def state_of(integration: Integration) -> ServiceState:
    """The integration's state row, created on first use."""
    state, _ = ServiceState.objects.get_or_create(integration=integration)
    return state
