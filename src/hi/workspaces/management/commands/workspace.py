"""manage.py workspace: list and create workspaces, and give users a role in one."""
from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Count

from hi.workspaces.members import MembershipError, change_role
from hi.workspaces.models import Membership, Role, Workspace


def get_workspace(slug: str) -> Workspace:
    """The workspace with this slug, else a CommandError."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"No workspace {slug}.")
    return workspace


def password_from_env(variable: str | None) -> str | None:
    """The password held by environment variable `variable` (None when no variable was named)."""
    if not variable:
        return None
    password = os.environ.get(variable, "")
    if not password:
        raise CommandError(f"Environment variable {variable} is not set or empty.")
    return password


class Command(BaseCommand):
    """manage.py workspace list | create | add-member."""

    help = "Manage workspaces: list, create <slug> --name N, add-member <slug> <username> --role ROLE."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare one subcommand per action."""
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        actions.add_parser("list", help="List workspaces with their member counts.")
        create = actions.add_parser("create", help="Create a workspace.")
        create.add_argument("slug", help="Short id used in URLs and commands, e.g. shop-2.")
        create.add_argument("--name", required=True, help="Display name.")
        # The installation's owner runs the CLI (with the server's database): no invitation, unlike the console.
        member = actions.add_parser("add-member", help="Give a user (created if missing) a role in a workspace, at once.")
        member.add_argument("slug", help="Workspace slug.")
        member.add_argument("username", help="User name; the user is created when missing.")
        member.add_argument("--role", required=True, choices=[role.value for role in Role], help="The member's role.")
        member.add_argument(
            "--password-from-env",
            metavar="VAR",
            default=None,
            help="Set the user's password from this environment variable (else a new user cannot log in by password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Dispatch to the action's handler."""
        handler = {"list": self.do_list, "create": self.do_create, "add-member": self.do_add_member}[options["action"]]
        handler(options)

    def do_list(self, options: dict[str, Any]) -> None:
        """Print slug, name and member count of every workspace."""
        workspaces = Workspace.objects.annotate(members=Count("memberships")).order_by("slug")
        if not workspaces:
            self.stdout.write("No workspaces; create one with `workspace create <slug> --name N`.")
            return
        rows = [("slug", "name", "members")] + [(w.slug, w.name, str(w.members)) for w in workspaces]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    def do_create(self, options: dict[str, Any]) -> None:
        """Create a workspace with a valid, unused slug."""
        slug, name = options["slug"], options["name"].strip()
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(f"Invalid slug {slug!r}: use letters, numbers, hyphens or underscores.") from None
        if not name:
            raise CommandError("--name must not be blank.")
        if Workspace.objects.filter(slug=slug).exists():
            raise CommandError(f"Workspace {slug} already exists.")
        Workspace.objects.create(slug=slug, name=name[:120])
        self.stdout.write(self.style.SUCCESS(f"Created workspace {slug} ({name})."))

    def do_add_member(self, options: dict[str, Any]) -> None:
        """Create the user if missing, then add or update their membership."""
        workspace = get_workspace(options["slug"])
        password = password_from_env(options["password_from_env"])
        username, role = options["username"], Role(options["role"])
        user_model = get_user_model()
        with transaction.atomic():
            user = user_model.objects.filter(username=username).first()
            if user is None:
                # create_user with password=None stores an unusable password.
                user = user_model.objects.create_user(username, password=password)
                self.stdout.write(
                    f"Created user {username}" + (" with the given password." if password else " (no usable password).")
                )
            elif password is not None:
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"Updated the password of {username}.")
            membership, created = Membership.objects.get_or_create(
                workspace=workspace, user=user, defaults={"role": role}
            )
            if not created and membership.role != role:
                try:
                    change_role(membership, role)
                except MembershipError as exc:
                    raise CommandError(str(exc)) from None
        if created:
            message = f"{username} added to {workspace.slug} as {role.value}."
        else:
            message = f"{username} is now {role.value} in {workspace.slug}."
        self.stdout.write(self.style.SUCCESS(message))
