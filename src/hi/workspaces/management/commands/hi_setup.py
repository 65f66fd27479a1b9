"""Idempotent first-run set-up: migrate, the default workspace, the operator `admin`, and (with --demo) each service's demo."""
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

from hi.integrations.api import (
    DemoSeed,
    DemoUnavailable,
    HiError,
    Integration,
    IntegrationType,
    SetupError,
    add_integration,
    demo_seed,
    demo_seeds,
)
from hi.workspaces.models import Membership, Role, Workspace

DEFAULT_SLUG = "default"
ADMIN_USERNAME = "admin"
#: In VAR_DIR: which demo integrations were added once, so that one the operator removed is not added again.
DEMO_MARKER = "demo_seeded.json"
ACTOR = "hi_setup --demo"


def demo_enabled() -> bool:
    """HI_DEMO: on unless set to something other than 1 / true / yes / on (e.g. HI_DEMO=0)."""
    return os.environ.get("HI_DEMO", "").strip().lower() in {"", "1", "true", "yes", "on"}


def requested_demos(urls: list[str]) -> list[tuple[IntegrationType, DemoSeed, str]]:
    """The demos to add: those `--demo-url TYPE=URL` names, else every one that adds an integration, at its simulator's port."""
    if not urls:
        return [(member, seed, seed.url()) for member, seed in demo_seeds() if seed.adds_integration]
    wanted: dict[IntegrationType, str] = {}
    for given in urls:
        type_id, _, url = given.partition("=")
        try:
            member = IntegrationType.from_id(type_id.strip())
        except ValueError:
            raise DemoUnavailable(f"--demo-url {given!r}: {type_id!r} is no integration type.") from None
        if not url.strip():
            raise DemoUnavailable(f"--demo-url {given!r}: give TYPE=URL, e.g. {member.type_id}=http://127.0.0.1:8002.")
        wanted[member] = url.strip()
    chosen = []
    for member in IntegrationType:  # the registry's order, whatever the command line's
        if member not in wanted:
            continue
        seed = demo_seed(member)
        if seed is None or not seed.adds_integration:
            raise DemoUnavailable(f"--demo-url: {member.label} offers no demo integration.")
        chosen.append((member, seed, wanted[member]))
    return chosen


class DemoMarker:
    """The demo integrations added to each workspace of this database (a workspace recreated from scratch starts afresh)."""

    def __init__(self, workspace: Workspace) -> None:
        """The marker file, and this workspace's key in it."""
        self.path = Path(settings.VAR_DIR) / DEMO_MARKER
        # The primary key alone repeats when the database is recreated; with its creation time it does not.
        self.key = f"{workspace.pk}@{workspace.created_at.isoformat()}"

    def _read(self) -> dict[str, list[str]]:
        """What the file remembers ({} when it is missing or unreadable)."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def __contains__(self, name: str) -> bool:
        """Whether the demo integration `name` was added before."""
        return name in self._read().get(self.key, [])

    def add(self, name: str) -> None:
        """Remember that the demo integration `name` was added."""
        data = self._read()
        data[self.key] = sorted({*data.get(self.key, []), name})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2) + "\n")


class Command(BaseCommand):
    """manage.py hi_setup [--demo [--demo-url TYPE=URL]...]: safe to run on every start."""

    help = (
        "Migrate, create the default workspace and the admin operator (password from HI_ADMIN_PASSWORD or printed once); "
        "with --demo, also add each service's demo integration against its running simulator (skipped when HI_DEMO=0)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--demo and where the simulators listen."""
        parser.add_argument(
            "--demo", action="store_true",
            help="also add the demo integrations to the default workspace (their simulators must be running; `make run` does this)",
        )
        parser.add_argument(
            "--demo-url", action="append", default=[], metavar="TYPE=URL",
            help="add only this type's demo, against the simulator at URL (repeatable; default: every demo at its port, "
            "see `manage.py hi_demo`)",
        )

    def handle(self, *args, demo: bool = False, demo_url: list[str] | None = None, **options) -> None:
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
                self.seed_demos(workspace, demo_url or [])
            else:
                self.stdout.write("HI_DEMO is off: no demo integration added.")
        self.stdout.write(self.style.SUCCESS("hi is set up."))

    def seed_demos(self, workspace: Workspace, urls: list[str]) -> None:
        """Add each demo integration in the registry's order; one that fails does not stop the next, and all failures are reported."""
        try:
            chosen = requested_demos(urls)
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        failures = []
        for member, seed, url in chosen:
            try:
                self.seed_demo(workspace, member, seed, url)
            except CommandError as exc:
                failures.append(str(exc))
        if failures:
            raise CommandError("\n".join(failures))

    def seed_demo(self, workspace: Workspace, member: IntegrationType, seed: DemoSeed, url: str) -> None:
        """Add one demo integration through the same validated flow as the console (its live connection test), once."""
        # An existing one is left as the operator left it (deactivated stays deactivated), and one the
        # operator removed is not added again.
        existing = Integration.objects.filter(workspace=workspace, integration_type=member.type_id, unique_id=seed.unique_id).first()
        marker = DemoMarker(workspace)
        marker_name = f"{member.type_id}:{seed.unique_id}"
        try:
            if existing is not None:
                self.connect(member, seed, existing, url)
                self.stdout.write(
                    f"The {member.label} demo integration “{existing.name}” exists ({existing.get_state_display()}); left as it is."
                )
            elif marker_name in marker:
                self.stdout.write(
                    f"The {member.label} demo integration was removed; not adding it again (delete {marker.path} to get it back)."
                )
                return
            else:
                integration = add_integration(workspace, member, seed.name, dict(seed.attributes(url)), actor=ACTOR)
                self.connect(member, seed, integration, url)
                said = f": {seed.added.format(url=url)}" if seed.added else "."
                self.stdout.write(f"Added “{integration.name}” to the workspace 'default' ({integration.get_state_display()}){said}")
        except SetupError as exc:
            raise CommandError(f"The {member.label} demo integration was not added ({url}): {exc.message}") from None
        marker.add(marker_name)

    def connect(self, member: IntegrationType, seed: DemoSeed, integration: Integration, url: str) -> None:
        """Tell the demo's simulator about the integration, when it needs to know (it calls hi back)."""
        if seed.connect is None:
            return
        try:
            seed.connect(integration, url)
        except HiError as exc:
            raise CommandError(f"The {member.label} simulator at {url} could not be told where hi listens: {exc}") from None
