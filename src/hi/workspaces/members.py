"""Workspace membership rules shared by the console and the CLI: roles, and never zero admins."""
from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Membership, Role, Workspace


class MembershipError(Exception):
    """A membership change that was refused; the message is shown to the admin."""


def _would_leave_no_admin(membership: Membership, new_role: Role | None) -> bool:
    """Whether changing this membership removes the workspace's last admin."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return False
    return not membership.workspace.memberships.filter(role=Role.ADMIN).exclude(pk=membership.pk).exists()


@transaction.atomic
def add_member(workspace: Workspace, username: str, role: Role) -> tuple[Membership, str | None]:
    """Add a user (created with a one-time password when new) or change their role."""
    username = username.strip()
    if not username:
        raise MembershipError("Enter a username.")
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = user_model.objects.create_user(username, password=password)
    membership = Membership.objects.filter(workspace=workspace, user=user).first()
    if membership is None:
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    else:
        change_role(membership, role)
    return membership, password


@transaction.atomic
def change_role(membership: Membership, role: Role) -> Membership:
    """Give a member another role, unless that leaves the workspace without an admin."""
    membership = Membership.objects.select_for_update().select_related("workspace").get(pk=membership.pk)
    if _would_leave_no_admin(membership, role):
        raise MembershipError("A workspace keeps at least one admin: make someone else admin first.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    """Take a user out of the workspace, unless they are its last admin."""
    membership = Membership.objects.select_for_update().select_related("workspace").get(pk=membership.pk)
    if _would_leave_no_admin(membership, None):
        raise MembershipError("A workspace keeps at least one admin: make someone else admin first.")
    membership.delete()
