"""Rows of the inbound flow beside InboundEvent: the secret keys of receive URLs."""
from __future__ import annotations

from django.db import models
from django.db.models import Q

from .core import Integration


class HookKey(models.Model):
    """The secret part of an integration's receive URL, never stored in clear.

    `digest` (SHA-256 of the key) is what a request is looked up by; `encrypted` (Fernet) lets the
    console show the URL. The current key has no `expires_at`; a rotation gives the old key one.
    """

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
        return f"hook key of {self.integration_id} ({'current' if self.expires_at is None else 'retired'})"
