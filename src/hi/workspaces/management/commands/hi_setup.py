"""Idempotent first-run set-up: migrate, the default workspace, the operator `admin`, and (with --demo) the iFood and WhatsApp demos."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from hi.integrations.api import Integration, IntegrationType, ProviderError, SetupError, add_integration
from hi.workspaces.models import Membership, Role, Workspace

DEFAULT_SLUG = "default"
ADMIN_USERNAME = "admin"
DEMO_IFOOD_NAME = "iFood (demo)"
#: In VAR_DIR: which demo integrations were added once, so that one the operator removed is not added again.
DEMO_MARKER = "demo_seeded.json"


def demo_enabled() -> bool:
    """HI_DEMO: on unless set to something other than 1 / true / yes / on (e.g. HI_DEMO=0)."""
    return os.environ.get("HI_DEMO", "").strip().lower() in {"", "1", "true", "yes", "on"}


def default_ifood_url() -> str:
    """Where `make run` starts the iFood simulator."""
    return f"http://127.0.0.1:{os.environ.get('HI_IFOOD_DEMO_PORT') or 8002}"


def default_whatsapp_url() -> str:
    """Where `make run` starts the WhatsApp simulator."""
    return f"http://127.0.0.1:{os.environ.get('HI_WHATSAPP_DEMO_PORT') or 8003}"


class DemoMarker:
    """The demo integrations added to each workspace of this database (a workspace recreated from scratch starts afresh)."""

    def __init__(self, workspace: Workspace) -> None:
        self.path = Path(settings.VAR_DIR) / DEMO_MARKER
        # The primary key alone repeats when the database is recreated; with its creation time it does not.
        self.key = f"{workspace.pk}@{workspace.created_at.isoformat()}"

    def _read(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def __contains__(self, name: str) -> bool:
        return name in self._read().get(self.key, [])

    def add(self, name: str) -> None:
        """Remember that the demo integration `name` was added."""
        data = self._read()
        data[self.key] = sorted({*data.get(self.key, []), name})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2) + "\n")


class Command(BaseCommand):
    """manage.py hi_setup [--demo]: safe to run on every start."""

    help = (
        "Migrate, create the default workspace and the admin operator (password from HI_ADMIN_PASSWORD or printed once); "
        "with --demo, also add the iFood demo integration against a running simulator (skipped when HI_DEMO=0)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--demo and where its simulator listens."""
        parser.add_argument(
            "--demo", action="store_true",
            help="also add the iFood demo integration to the default workspace (the simulator must be running; `make run` does this)",
        )
        parser.add_argument(
            "--ifood-url", default=None, metavar="URL",
            help="the iFood simulator's URL (default http://127.0.0.1:$HI_IFOOD_DEMO_PORT, port 8002)",
        )
        parser.add_argument(
            "--whatsapp-url", default=None, metavar="URL",
            help="also add the WhatsApp demo against this simulator (`make run` passes http://127.0.0.1:$HI_WHATSAPP_DEMO_PORT)",
        )

    def handle(self, *args, demo: bool = False, ifood_url: str | None = None, whatsapp_url: str | None = None, **options) -> None:
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
        if demo:
            if demo_enabled():
                self.seed_ifood_demo(workspace, ifood_url or default_ifood_url())
                if whatsapp_url:
                    self.seed_whatsapp_demo(workspace, whatsapp_url)
            else:
                self.stdout.write("HI_DEMO is off: no demo integration added.")
        self.stdout.write(self.style.SUCCESS("hi is set up."))

    def seed_ifood_demo(self, workspace: Workspace, url: str) -> None:
        """Add the iFood integration the demo simulator serves, through the same validated flow as the console."""
        # An existing one is left as the operator left it (deactivated stays deactivated), and one the
        # operator removed is not added again.
        # Imported here: only the demo needs the simulator's defaults, and the set-up of a real install never does.
        from hi.services.ifood.simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_MERCHANTS

        existing = Integration.objects.filter(
            workspace=workspace, integration_type=IntegrationType.IFOOD.type_id, unique_id=DEFAULT_CLIENT_ID
        ).first()
        marker = DemoMarker(workspace)
        marker_name = f"{IntegrationType.IFOOD.type_id}:{DEFAULT_CLIENT_ID}"
        if existing is not None:
            self.stdout.write(f"The iFood demo integration “{existing.name}” exists ({existing.get_state_display()}); left as it is.")
            marker.add(marker_name)
            return
        if marker_name in marker:
            self.stdout.write(
                f"The iFood demo integration was removed; not adding it again (delete {marker.path} to get it back)."
            )
            return
        raw = {
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "merchant_ids": ",".join(DEFAULT_MERCHANTS),
            "api_base_url": url,
            "event_mode": "polling",
        }
        try:
            integration = add_integration(workspace, IntegrationType.IFOOD, DEMO_IFOOD_NAME, raw, actor="hi_setup --demo")
        except SetupError as exc:
            raise CommandError(f"The iFood demo integration was not added ({url}): {exc.message}") from None
        marker.add(marker_name)
        self.stdout.write(
            f"Added “{integration.name}” to the workspace 'default' ({integration.get_state_display()}), polling the simulator at {url}."
        )

    def seed_whatsapp_demo(self, workspace: Workspace, url: str) -> None:
        """Add the WhatsApp demo integration (or reconnect the simulator, which forgets hi's URL when it restarts)."""
        # Imported here, like the iFood demo's defaults: a real install's set-up never needs the service's demo.
        from hi.services.whatsapp import demo as whatsapp_demo

        marker = DemoMarker(workspace)
        marker_name = f"{IntegrationType.WHATSAPP.type_id}:{whatsapp_demo.PHONE_NUMBER_ID}"
        integration = whatsapp_demo.existing(workspace)
        try:
            if integration is not None:
                whatsapp_demo.connect(integration, url)
                self.stdout.write(f"The WhatsApp demo integration “{integration.name}” exists ({integration.get_state_display()}); the simulator posts to it.")
            elif marker_name in marker:
                self.stdout.write(f"The WhatsApp demo integration was removed; not adding it again (delete {marker.path} to get it back).")
                return
            else:
                integration = whatsapp_demo.seed(workspace, url)
                self.stdout.write(
                    f"Added “{integration.name}” to the workspace 'default' ({integration.get_state_display()}): new demo orders "
                    "send their customer a WhatsApp confirmation, and answers arrive under Messages."
                )
        except SetupError as exc:
            raise CommandError(f"The WhatsApp demo integration was not added ({url}): {exc.message}") from None
        except ProviderError as exc:
            raise CommandError(f"The WhatsApp simulator at {url} could not be told where hi listens: {exc}") from None
        marker.add(marker_name)
