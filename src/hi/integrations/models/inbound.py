"""Rows of the inbound flow beside InboundEvent: the secret keys of receive URLs, and refusals counted per source."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from .core import Integration


class HookKey(models.Model):
    """The secret part of an integration's receive URL, never stored in clear."""
    # `digest` (SHA-256 of the key) is what a request is looked up by; `encrypted` (Fernet) lets the
    # console show the URL. The current key has no `expires_at`; a rotation gives the old key one.

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="hook_keys")
    digest = models.CharField(max_length=64, unique=True)
    encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration"], condition=Q(expires_at__isnull=True), name="one_current_hook_key"),
        ]

    def __str__(self) -> str:
        """Whose key, and whether it is current or retired."""
        return f"hook key of {self.integration_id} ({'current' if self.expires_at is None else 'retired'})"


class RefusalTally(models.Model):
    """Refused requests from one source (an address, or an IPv6 /64) to one integration, counted in one row."""
    # The rate limit reads `window_started_at` and `in_window`; a flood is shown from the streak's
    # counters: `refused` since `first_at`, of which `unlogged` were answered but not stored row by row.
    # A streak ends after an hour without refusals.

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="refusal_tallies")
    source = models.CharField(max_length=64)
    window_started_at = models.DateTimeField()
    in_window = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    refused = models.PositiveBigIntegerField(default=0)
    unlogged = models.PositiveBigIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(default=0)
    last_reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-last_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["integration", "source"], name="one_refusal_tally_per_source")]

    def __str__(self) -> str:
        """How many requests were refused from which source to which integration."""
        return f"{self.refused} refused from {self.source} to {self.integration_id}"
