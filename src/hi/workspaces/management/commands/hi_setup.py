"""Idempotent first-run set-up: migrate, the default workspace, and the operator `admin`."""
from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from hi.workspaces.models import Membership, Role, Workspace

DEFAULT_SLUG = "default"
ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    """manage.py hi_setup: safe to run on every start."""

    help = "Migrate, create the default workspace and the admin operator (password from HI_ADMIN_PASSWORD or printed once)."

    def handle(self, *args, **options) -> None:
        """Run each step only if it is still needed."""
        call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic():
            workspace, created = Workspace.objects.get_or_create(slug=DEFAULT_SLUG, defaults={"name": "Default"})
            if created:
                self.stdout.write("Created the workspace 'default'.")
            user_model = get_user_model()
            user = user_model.objects.filter(username=ADMIN_USERNAME).first()
            password = os.environ.get("HI_ADMIN_PASSWORD", "")
            if user is None:
                generated = not password
                password = password or secrets.token_urlsafe(12)
                user = user_model.objects.create_user(ADMIN_USERNAME, password=password, is_staff=True)
                if generated:
                    # Shown this once only: it is stored hashed.
                    self.stdout.write(self.style.WARNING(f"Operator login: admin / {password}  (shown once; keep it)"))
                else:
                    self.stdout.write("Created the operator 'admin' with the password from HI_ADMIN_PASSWORD.")
            elif password and not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write("Updated the password of 'admin' from HI_ADMIN_PASSWORD.")
            Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": Role.ADMIN})
        self.stdout.write(self.style.SUCCESS("hi is set up."))
