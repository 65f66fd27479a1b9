"""Run a service's provider simulator in the foreground: `manage.py hi_simulator <type id> --port N [options]`."""
# The framework never imports a service by name: it finds `<IntegrationType.app>.simulator` and uses two
# module-level hooks there:
# - `add_cli_arguments(parser)`: add the service's own options (optional);
# - `serve_cli(port, options, write)`: build the simulator, `write()` what it serves (one line per call),
#   and serve until interrupted.
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.types import IntegrationType


def simulator_module(type_id: str) -> ModuleType | None:
    """The simulator module of an integration type, or None when the service has none (or no serve hook)."""
    try:
        app = IntegrationType.from_id(type_id).app
    except ValueError:
        return None
    try:
        module = importlib.import_module(f"{app}.simulator")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.simulator":
            raise  # the simulator exists but something it imports is missing: say so
        return None
    return module if callable(getattr(module, "serve_cli", None)) else None


class Command(BaseCommand):
    """manage.py hi_simulator <type id> --port N [service options]."""

    help = "Run an integration type's provider simulator on 127.0.0.1 (e.g. `hi_simulator demo --port 8001`)."

    def add_arguments(self, parser: CommandParser) -> None:
        """One sub-command per type that has a simulator, each with --port and the service's options."""
        types = parser.add_subparsers(dest="type_id", metavar="<type id>", required=True)
        for member in IntegrationType:
            module = simulator_module(member.type_id)
            if module is None:
                continue
            sub = types.add_parser(member.type_id, help=f"the {member.label} simulator")
            sub.add_argument("--port", type=int, default=8001, help="port on 127.0.0.1 (default 8001)")
            add = getattr(module, "add_cli_arguments", None)
            if callable(add):
                add(sub)

    def handle(self, *args: Any, type_id: str, port: int, **options: Any) -> None:
        """Serve until interrupted."""
        module = simulator_module(type_id)
        if module is None:
            raise CommandError(f"No simulator for integration type {type_id!r}.")

        def write(line: str) -> None:
            """Print one line and flush it."""
            self.stdout.write(line)
            self.stdout.flush()  # the process that started us reads the banner line by line

        module.serve_cli(port, options, write)
