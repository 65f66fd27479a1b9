"""Print the quality checklist per service: `manage.py hi_quality [--json] [--type ID]`; exit status 1 when a rule fails."""
from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.quality import render_json, render_text, run_checklist
from hi.integrations.types import IntegrationType


class Command(BaseCommand):
    """manage.py hi_quality [--json] [--type ID]."""

    help = "Check every service (or one) against the quality checklist; exit status 1 when a rule fails."

    def add_arguments(self, parser: CommandParser) -> None:
        """--json and --type (repeatable)."""
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--type", action="append", dest="types", metavar="ID",
                            help="check only this integration type (repeatable; default: every type)")

    def handle(self, *args: Any, json: bool, types: list[str] | None, **options: Any) -> None:
        """Run the checklist, print it, and exit 1 when a service fails a rule."""
        try:
            members = [IntegrationType.from_id(type_id) for type_id in types] if types else list(IntegrationType)
        except ValueError as exc:
            known = ", ".join(member.type_id for member in IntegrationType)
            raise CommandError(f"{exc} Known types: {known}.") from None
        reports = run_checklist(members)
        self.stdout.write(render_json(reports) if json else render_text(reports))
        if any(report.failed for report in reports):
            sys.exit(1)
