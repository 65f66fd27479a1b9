"""manage.py event emit <type> --data '<json>': publish an event exactly as hi's own code does."""
from __future__ import annotations

import json
import re
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hi.integrations.models import Directive, Integration
from hi.integrations.outbox.events import EVENT_TYPES, dispatch, publish
from hi.workspaces.models import Workspace

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class Command(BaseCommand):
    """Exercise subscriptions from a shell or a test."""

    help = "Publish an event: manage.py event emit <type> --data '<json object>' [--workspace slug] [--integration id]."

    def add_arguments(self, parser) -> None:
        """emit <type> --data --workspace --integration."""
        actions = parser.add_subparsers(dest="action", required=True)
        emit = actions.add_parser("emit", help="Publish one event after a commit, like hi does.")
        emit.add_argument("type", help=f"Event type, e.g. {', '.join(sorted(EVENT_TYPES))}.")
        emit.add_argument("--data", default="{}", help="The event's data, a JSON object.")
        emit.add_argument("--workspace", default="default", help="Workspace slug (default: default).")
        emit.add_argument("--integration", default=None, help="Id of the integration the event is about (optional).")

    def handle(self, *args, action: str, **options) -> None:
        """Validate, publish, report what the hooks queued."""
        event_type = options["type"]
        if not EVENT_NAME.match(event_type):
            raise CommandError(f"{event_type!r} is not an event type (expected names like order.created).")
        try:
            data = json.loads(options["data"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--data is not JSON: {exc.msg} at position {exc.pos}.") from None
        if not isinstance(data, dict):
            raise CommandError("--data must be a JSON object.")
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace {options['workspace']}.")
        integration = None
        if options["integration"]:
            try:
                integration = Integration.objects.filter(pk=uuid.UUID(options["integration"]), workspace=workspace).first()
            except ValueError:
                integration = None
            if integration is None:
                raise CommandError(f"No integration {options['integration']} in workspace {workspace.slug}.")
        before = Directive.objects.filter(workspace=workspace).count()
        with transaction.atomic():
            event = publish(event_type, data, workspace, integration)
        # Dispatched on commit like any event; this call only makes sure before counting (it is a
        # no-op when the commit already dispatched it).
        dispatch(event.pk)
        queued = Directive.objects.filter(workspace=workspace).count() - before
        note = "" if event_type in EVENT_TYPES else " (not a type hi emits itself)"
        self.stdout.write(f"Published {event_type} as event {event.pk}{note}; hooks queued {queued} directive(s).")
