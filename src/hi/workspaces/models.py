"""Workspaces and the users who are members of them, with a role each."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    """What a member may do in a workspace; each role includes the ones before it."""

    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"

    @property
    def rank(self) -> int:
        """Position in the order viewer < operator < admin."""
        return [Role.VIEWER, Role.OPERATOR, Role.ADMIN].index(self)


class Workspace(models.Model):
    """A tenant: owns integrations and everything they produce."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """The name."""
        return self.name


class Membership(models.Model):
    """A user's role in one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        """Who, where and in which role."""
        return f"{self.user} in {self.workspace} ({self.role})"

    def allows(self, role: Role | str) -> bool:
        """Whether this membership has at least the given role."""
        return Role(self.role).rank >= Role(role).rank


class Invitation(models.Model):
    """An admin's offer of a role in a workspace to a username: the user accepts it (or declines) themselves."""
    # The link carries a token (only its SHA-256 is stored); the invitation names a username, never a
    # user, so that creating one says nothing about whether that username exists elsewhere.

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    username = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["username"]
        constraints = [models.UniqueConstraint(fields=["workspace", "username"], name="one_invitation_per_username")]

    def __str__(self) -> str:
        """Who is invited, where and in which role."""
        return f"{self.username} invited to {self.workspace} ({self.role})"
