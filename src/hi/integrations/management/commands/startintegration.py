"""manage.py startintegration <name>: a new service under src/hi/services/, registered, with its simulator, tests and docs page."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.core.errors import ScaffoldRefused
from hi.integrations.scaffold import AUTH_CHOICES, Options, scaffold


class Command(BaseCommand):
    """manage.py startintegration <name> [--label "Human name"] [--auth ...] [--inbound] [--orders] [--poll]."""

    help = (
        "Create a provider's service in src/hi/services/<name>/ (gateway, attributes, client, simulator, contract tests, "
        "docs page) and register it in IntegrationType and INSTALLED_APPS; on any error nothing is created."
    )
    # The scaffold reads and edits the registry as text: it must run even when the project's checks fail.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        """The name and the options that choose which files the service gets."""
        parser.add_argument("name", help="the service's id: its package, app label and type id (lower-case, e.g. airtime)")
        parser.add_argument("--label", default="", help="the provider's human name, shown in the console (default: the name in title case)")
        parser.add_argument("--auth", choices=AUTH_CHOICES, default="api-key", help="how the provider authenticates hi (default: api-key)")
        parser.add_argument("--inbound", action="store_true", help="a webhook receiver with HMAC-SHA256 verification (inbound.py)")
        parser.add_argument("--orders", action="store_true",
                            help="order actions through the orders hub's OrderSource (actions.py, handlers.py)")
        parser.add_argument("--poll", action="store_true", help="a scheduled job (jobs.py)")

    def handle(self, *args: Any, name: str, label: str, auth: str, inbound: bool, orders: bool, poll: bool, **options: Any) -> None:
        """Create the service, or say why not (having changed nothing)."""
        root = Path(settings.BASE_DIR)
        try:
            created = scaffold(root, name, label, Options(auth=auth, inbound=inbound, orders=orders, poll=poll))
        except ScaffoldRefused as exc:
            raise CommandError(str(exc)) from None
        names = created.names
        self.stdout.write(self.style.SUCCESS(f"Created the {names.label} service, {names.app} (IntegrationType.{names.member}):"))
        for path in created.files:
            self.stdout.write(f"  {path}")
        self.stdout.write(f"Registered it in {' and '.join(created.changed)}.")
        self.stdout.write(
            "Next: `make test` runs its contract tests against its simulator; "
            f"`manage.py hi_simulator {names.name}` serves the simulator; "
            f"docs/services/{names.name}.md says what to adapt."
        )
