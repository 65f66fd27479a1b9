"""Workspace membership rules shared by the console and the CLI: roles, invitations, and never zero admins."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import Invitation, Membership, Role, Workspace

#: How long an invitation link works.
INVITATION_DAYS = 7


class MembershipError(Exception):
    """A membership change that was refused; the message is shown to the admin."""


def _would_leave_no_admin(membership: Membership, new_role: Role | None) -> bool:
    """Whether changing this membership removes the workspace's last admin."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return False
    return not membership.workspace.memberships.filter(role=Role.ADMIN).exclude(pk=membership.pk).exists()


def token_hash(token: str) -> str:
    """What is stored of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite(workspace: Workspace, username: str, role: Role, invited_by=None) -> tuple[Invitation | Membership, str | None]:
    """Change a member's role, or invite a username: (the invitation, its one-time link token)."""
    # Nobody joins a workspace without saying so: an invitation is the same whether or not the username
    # has an account on this installation (which this never tells the admin); the user accepts it.
    username = username.strip()
    if not username:
        raise MembershipError("Enter a username.")
    membership = Membership.objects.filter(workspace=workspace, user__username=username).first()
    if membership is not None:
        return change_role(membership, role), None
    token = secrets.token_urlsafe(24)
    invitation, _ = Invitation.objects.update_or_create(
        workspace=workspace, username=username,
        defaults={"role": role, "token_hash": token_hash(token), "invited_by": invited_by,
                  "expires_at": timezone.now() + timedelta(days=INVITATION_DAYS)},
    )  # fmt: skip
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    """The unexpired invitation of a link token."""
    return Invitation.objects.select_related("workspace").filter(token_hash=token_hash(token), expires_at__gt=timezone.now()).first()


@transaction.atomic
def accept(invitation: Invitation, user) -> Membership:
    """The invited user joins with the offered role (the invitation is used up)."""
    if user.get_username() != invitation.username:
        raise MembershipError(f"This invitation is for {invitation.username}.")
    membership, created = Membership.objects.get_or_create(workspace=invitation.workspace, user=user, defaults={"role": invitation.role})
    if not created and membership.role != invitation.role:
        membership = change_role(membership, Role(invitation.role))
    invitation.delete()
    return membership


@transaction.atomic
def create_account_and_accept(invitation: Invitation, password: str):
    """A username new to this installation gets an account with the password its owner chose, and joins."""
    user_model = get_user_model()
    if user_model.objects.filter(username=invitation.username).exists():
        raise MembershipError(f"An account named {invitation.username} already exists: log in to accept.")
    user = user_model.objects.create_user(invitation.username, password=password)
    accept(invitation, user)
    return user


def decline(invitation: Invitation, user) -> None:
    """The invited user says no: the invitation is gone, nothing else changes."""
    if user.get_username() != invitation.username:
        raise MembershipError(f"This invitation is for {invitation.username}.")
    invitation.delete()


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
