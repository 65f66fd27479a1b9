"""manage.py integration: list, add, configure and operate integrations through the console's service layer."""
from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any, Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.config import hookkeys, lifecycle, setup
from hi.integrations.console.diagnostics import build_diagnostics
from hi.integrations.console.helpers import DEFAULT_WORKSPACE, find_integration, find_workspace
from hi.integrations.console.problems import problems_by_integration
from hi.integrations.console.summary import integration_summary, revealed_values
from hi.integrations.core.errors import IllegalTransition, SecretDecryptionError, SetupError, SyncFailed
from hi.integrations.engine.sync import run_sync
from hi.integrations.models import Integration, IntegrationState
from hi.integrations.types import IntegrationType

ACTOR = "cli"
S = IntegrationState
#: States an activation may land in that mean "not working": the command then exits non-zero.
FAILED_STATES = frozenset({S.SETUP_RETRY, S.AUTH_FAILED, S.SETUP_ERROR, S.FAILED_DEACTIVATE})


def parse_sets(pairs: list[str] | None) -> dict[str, str]:
    """Turn repeated `--set key=value` options into a dict; a pair without '=' is an error."""
    raw: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--set expects attribute=value, got {pair!r}.")
        raw[key.strip()] = value
    return raw


def setup_error_text(error: SetupError) -> str:
    """One line for a SetupError: the code, then field errors or the operator-facing message."""
    if error.field_errors:
        fields = "; ".join(f"{key}: {message}" for key, message in error.field_errors.items())
        return f"{error.code}: {fields}"
    return f"{error.code}: {error.message}"


def find_type(type_id: str) -> IntegrationType:
    """The integration type with this id, else a CommandError listing the valid ids."""
    try:
        return IntegrationType.from_id(type_id)
    except ValueError:
        valid = ", ".join(member.type_id for member in IntegrationType)
        raise CommandError(f"Unknown integration type {type_id!r}; valid types: {valid}.") from None


class Command(BaseCommand):
    """manage.py integration <action>: the console's operations for scripts and operators at a shell."""

    help = (
        "Manage integrations: list, add, configure, activate, deactivate, pause, resume, test, sync, remove, "
        "diagnostics, rotate-receive-url."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare one subcommand per action."""
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="Workspace slug (default: default).")
        as_json = argparse.ArgumentParser(add_help=False)
        as_json.add_argument("--json", action="store_true", help="Print JSON instead of text.")
        target = argparse.ArgumentParser(add_help=False)
        target.add_argument("id", help="The integration's id (a UUID).")

        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        actions.add_parser("list", parents=[common, as_json], help="List the workspace's integrations.")

        add = actions.add_parser("add", parents=[common, as_json], help="Test, save and activate a new integration.")
        add.add_argument("type", help="Integration type id, e.g. demo.")
        add.add_argument("--name", default="", help="Display name (default: the provider account's name).")
        add.add_argument("--set", action="append", metavar="ATTRIBUTE=VALUE", help="An attribute value; repeatable.")

        configure = actions.add_parser(
            "configure", parents=[common, as_json, target], help="Change attributes (a blank secret keeps the stored one)."
        )
        configure.add_argument("--name", default=None, help="New display name.")
        configure.add_argument("--set", action="append", metavar="ATTRIBUTE=VALUE", help="An attribute value; repeatable.")

        for name, text in (
            ("activate", "Set the integration up (or retry a failed set-up)."),
            ("deactivate", "Shut the integration down, keeping its configuration."),
            ("pause", "Stop acting on the integration, keeping configuration and pending work."),
            ("resume", "Set a paused integration up again."),
        ):
            actions.add_parser(name, parents=[common, as_json, target], help=text)
        actions.add_parser("test", parents=[common, target], help="Test the stored configuration live; saves nothing.")
        actions.add_parser("sync", parents=[common, target], help="Fetch the provider's objects as entities now.")
        remove = actions.add_parser("remove", parents=[common, target], help="Deactivate and delete the integration.")
        remove.add_argument("--delete-entities", action="store_true", help="Also delete entities an operator edited.")
        remove.add_argument("--force", action="store_true", help="Remove even if the provider fails to deactivate.")
        actions.add_parser("diagnostics", parents=[common, target], help="Print the diagnostics document (secrets redacted).")
        rotate = actions.add_parser(
            "rotate-receive-url", parents=[common, as_json, target],
            help="Issue a new receive URL; the old one works 24 hours more (give the provider the new one).",
        )
        rotate.add_argument("--now", action="store_true", help="Stop the old URL at once (it leaked).")

    def handle(self, *args: Any, **options: Any) -> None:
        """Dispatch to the action's handler."""
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "list": self.do_list,
            "add": self.do_add,
            "configure": self.do_configure,
            "activate": self.do_activate,
            "deactivate": self.do_deactivate,
            "pause": self.do_pause,
            "resume": self.do_resume,
            "test": self.do_test,
            "sync": self.do_sync,
            "remove": self.do_remove,
            "diagnostics": self.do_diagnostics,
            "rotate-receive-url": self.do_rotate_receive_url,
        }
        try:
            handlers[options["action"]](options)
        except SetupError as error:
            raise CommandError(setup_error_text(error)) from None
        except (IllegalTransition, SecretDecryptionError) as error:
            raise CommandError(str(error)) from None

    # Output ------------------------------------------------------------------------------------
    def report(self, integration: Integration, options: dict[str, Any], verb: str, reveal: bool = False) -> None:
        """Print where the integration is; exit non-zero when it landed in a failure state."""
        # With `reveal` (just added), values the type shows once are included (e.g. `signing_secret`).
        revealed = revealed_values(integration) if reveal else {}
        if options.get("json"):
            self.stdout.write(json.dumps({**integration_summary(integration), **revealed}))
        else:
            line = f"{integration.name} ({integration.pk}) {verb}: {integration.state}"
            self.stdout.write(line + (f" — {integration.reason}" if integration.reason else "."))
            for name, value in revealed.items():
                self.stdout.write(f"{name}: {value}  (shown once; keep it)")
        state = IntegrationState(integration.state)
        if state in FAILED_STATES:
            raise CommandError(f"{integration.name} is {state.value}: {integration.reason or state.label}")

    # Actions -----------------------------------------------------------------------------------
    def do_list(self, options: dict[str, Any]) -> None:
        """Print the workspace's integrations as a JSON array or a table."""
        workspace = find_workspace(options["workspace"])
        integrations = list(Integration.objects.filter(workspace=workspace))
        found = problems_by_integration(integrations)
        summaries = [integration_summary(i, found.get(i.pk, [])) for i in integrations]
        if options["json"]:
            self.stdout.write(json.dumps(summaries, indent=2))
            return
        if not summaries:
            self.stdout.write(f"No integrations in workspace {workspace.slug}; add one with `integration add`.")
            return
        columns = ("id", "type", "name", "state", "health", "unique_id")
        rows = [columns] + [tuple(str(s[c]) for c in columns) for s in summaries]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    def do_add(self, options: dict[str, Any]) -> None:
        """Validate, test, save and activate a new integration, as the console's add flow does."""
        integration_type = find_type(options["type"])
        raw = parse_sets(options["set"])
        workspace = find_workspace(options["workspace"])
        integration = setup.add_integration(workspace, integration_type, options["name"], raw, ACTOR)
        self.report(integration, options, "added", reveal=True)

    def do_configure(self, options: dict[str, Any]) -> None:
        """Change attributes and/or the name after a passing test; a running integration reloads."""
        integration = find_integration(options["id"], options["workspace"])
        raw = parse_sets(options["set"])
        if not raw and options["name"] is None:
            raise CommandError("Nothing to change: give --set attribute=value and/or --name.")
        integration = setup.reconfigure(integration, raw, ACTOR, name=options["name"])
        integration.refresh_from_db()
        self.report(integration, options, "configured")

    def do_activate(self, options: dict[str, Any]) -> None:
        """Activate (or retry) the integration."""
        integration = find_integration(options["id"], options["workspace"])
        self.report(lifecycle.activate(integration, ACTOR), options, "activated")

    def do_deactivate(self, options: dict[str, Any]) -> None:
        """Deactivate the integration."""
        integration = find_integration(options["id"], options["workspace"])
        integration = lifecycle.deactivate(integration, ACTOR, reason=f"Deactivated by {ACTOR}.")
        self.report(integration, options, "deactivated")

    def do_pause(self, options: dict[str, Any]) -> None:
        """Pause the integration."""
        integration = find_integration(options["id"], options["workspace"])
        self.report(lifecycle.pause(integration, ACTOR), options, "paused")

    def do_resume(self, options: dict[str, Any]) -> None:
        """Resume a paused integration."""
        integration = find_integration(options["id"], options["workspace"])
        self.report(lifecycle.resume(integration, ACTOR), options, "resumed")

    def do_test(self, options: dict[str, Any]) -> None:
        """Test the stored configuration live."""
        integration = find_integration(options["id"], options["workspace"])
        info = setup.check_connection(integration)
        self.stdout.write(f"Connection test passed: account {info.unique_id}.")

    def do_sync(self, options: dict[str, Any]) -> None:
        """Sync entities now; like the console, only an active integration syncs."""
        integration = find_integration(options["id"], options["workspace"])
        try:
            result = run_sync(integration)
        except SyncFailed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Synced: {result.summary()}.")

    def do_remove(self, options: dict[str, Any]) -> None:
        """Deactivate if needed, release the entities and delete the integration."""
        integration = find_integration(options["id"], options["workspace"])
        name, pk = integration.name, integration.pk
        deleted, kept = lifecycle.remove(
            integration, ACTOR, delete_entities=options["delete_entities"], force=options["force"]
        )
        self.stdout.write(f"Removed {name} ({pk}): {deleted} entities deleted, {kept} kept.")

    def do_diagnostics(self, options: dict[str, Any]) -> None:
        """Print the diagnostics document, secrets redacted."""
        integration = find_integration(options["id"], options["workspace"])
        self.stdout.write(json.dumps(build_diagnostics(integration), indent=2))

    def do_rotate_receive_url(self, options: dict[str, Any]) -> None:
        """Issue a new receive-URL key; print the new URL and until when the old one works."""
        integration = find_integration(options["id"], options["workspace"])
        summary = integration_summary(integration)
        if summary["receive_url"] is None:
            raise CommandError(f"{integration.name} is a {integration.integration_type} integration, which receives no webhooks.")
        hookkeys.rotate(integration, ACTOR, overlap=timedelta(0) if options["now"] else hookkeys.OVERLAP)
        summary = integration_summary(integration)
        until = hookkeys.retired_until(integration)
        if options["json"]:
            self.stdout.write(json.dumps({**summary, "previous_url_works_until": until.isoformat() if until else None}))
            return
        self.stdout.write(f"New receive URL: {summary['receive_url']}")
        self.stdout.write(f"The old URL works until {until:%Y-%m-%d %H:%M UTC}." if until else "The old URL no longer works.")
        self.stdout.write("Give the provider the new URL.")
