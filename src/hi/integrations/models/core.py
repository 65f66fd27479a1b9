"""Integrations, their attributes, state and attribute history, entities and logs."""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from hi.workspaces.models import Workspace

from ..core.keys import IntegrationKey
from ..core.redaction import RedactedTextField
from ..types import IntegrationType


class IntegrationState(models.TextChoices):
    """Where an integration is in its lifecycle (see lifecycle.TRANSITIONS for the legal moves)."""

    DISABLED = "disabled", "Disabled"
    ACTIVATING = "activating", "Activating"
    ACTIVE = "active", "Active"
    SETUP_RETRY = "setup_retry", "Retrying set-up"
    AUTH_FAILED = "auth_failed", "Authentication failed"
    SETUP_ERROR = "setup_error", "Set-up error"
    PAUSED = "paused", "Paused"
    DEACTIVATING = "deactivating", "Deactivating"
    FAILED_DEACTIVATE = "failed_deactivate", "Deactivation failed"


class Integration(models.Model):
    """One configured instance of an integration type, owned by a workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="integrations")
    # Validated against IntegrationType in code, not as model choices: adding a service needs no migration.
    integration_type = models.CharField(max_length=32)
    name = models.CharField(max_length=120)
    # Taken from the provider account (never the URL or the display name).
    unique_id = models.CharField(max_length=255)
    state = models.CharField(
        max_length=24, choices=IntegrationState.choices, default=IntegrationState.DISABLED
    )
    reason = RedactedTextField(blank=True, default="")
    retry_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # "<type>:<unique_id>" for an account whose provider allows one consumer (gateway.single_consumer),
    # else NULL: the database then refuses the same account twice in the installation, even in a race.
    exclusive_key = models.CharField(max_length=300, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "integration_type", "unique_id"],
                name="one_integration_per_account",
            )
        ]

    def __str__(self) -> str:
        """The name and the type's label."""
        return f"{self.name} ({self.type.label})"

    @property
    def type(self) -> IntegrationType:
        """The IntegrationType member."""
        return IntegrationType.from_id(self.integration_type)

    @property
    def state_enum(self) -> IntegrationState:
        """The state as an enum member."""
        return IntegrationState(self.state)

    def get_absolute_url(self) -> str:
        """The manage page."""
        return reverse("integration-manage", args=[self.pk])


class IntegrationAttribute(models.Model):
    """One stored configuration value; secrets hold a Fernet token, never the plain value."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="attributes")
    key = models.CharField(max_length=64)
    value = models.TextField(blank=True, default="")
    is_secret = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "key"], name="one_value_per_attribute")
        ]

    def __str__(self) -> str:
        """`<integration id>:<key>`."""
        return f"{self.integration_id}:{self.key}"


class AttributeChange(models.Model):
    """Append-only history of attribute changes; secrets record that they changed, not values."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="attribute_changes"
    )
    key = models.CharField(max_length=64)
    is_secret = models.BooleanField(default=False)
    old_value = models.TextField(null=True, blank=True)
    new_value = models.TextField(null=True, blank=True)
    actor = models.CharField(max_length=150)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]


class StateChange(models.Model):
    """Append-only history of state transitions: when, from, to, why, who."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=24, choices=IntegrationState.choices)
    to_state = models.CharField(max_length=24, choices=IntegrationState.choices)
    reason = RedactedTextField(blank=True, default="")
    actor = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]


class IntegrationLog(models.Model):
    """An operator-facing log line of an integration (errors, syncs, actions)."""

    class Level(models.TextChoices):
        """Severity."""

        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="logs")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = RedactedTextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["integration", "-at"])]


class Entity(models.Model):
    """An external object an integration knows about, linked by its normalised external id."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="entities")
    # Kept (set to null) when the integration is removed with "keep entities".
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="entities"
    )
    integration_type = models.CharField(max_length=32)
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=255)
    data = models.JSONField(default=dict, blank=True)
    # Set when an operator edits the entity: sync and removal then keep it unless told otherwise.
    operator_edited = models.BooleanField(default=False)
    # Set when the provider no longer reports the entity but it was kept.
    detached = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "entities"
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_id"], name="one_entity_per_external_id"
            )
        ]

    def __str__(self) -> str:
        """The name."""
        return self.name

    @property
    def key(self) -> Any:
        """The entity's IntegrationKey."""
        return IntegrationKey(str(self.integration_id), self.external_id)
