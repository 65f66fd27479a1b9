"""manage.py webhook: the webhook service's operations (delivery log, resend, recover, secrets, test events)."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hi.integrations.api import DEFAULT_WORKSPACE, Integration, IntegrationState, find_integration, standard_webhooks
from hi.services.webhook import deliveries, rotation
from hi.services.webhook.handlers import TEST_EVENT_TYPE, test_events
from hi.services.webhook.models import Delivery
from hi.services.webhook.sendnow import outcome_line, send_test_now

ACTOR = "cli"


def endpoint(ident: str, slug: str) -> Integration:
    """The webhook integration `ident` of workspace `slug`, else a CommandError."""
    integration = find_integration(ident, slug)
    if integration.integration_type != "webhook":
        raise CommandError(f"Integration {ident} is a {integration.integration_type} integration, not a webhook endpoint.")
    return integration


def delivery_row(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the CLI prints it."""
    return {
        "id": delivery.pk, "event_type": delivery.event_type, "status": delivery.status, "webhook_id": delivery.message_id,
        "attempts": delivery.attempts, "last_status_code": delivery.last_status_code, "reason": delivery.reason,
        "created_at": delivery.created_at.isoformat(),
    }


class Command(BaseCommand):
    """manage.py webhook <action> <integration id>."""

    help = (
        "Webhook endpoints: list deliveries, resend one, recover failed and skipped ones since a time, rotate the "
        "signing secret, send a test event; print a new secret."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """deliveries | resend | recover | rotate-secret | test | new-secret."""
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("deliveries", help="List an endpoint's deliveries, newest first.")
        listing.add_argument("integration")
        listing.add_argument("--status", choices=Delivery.Status.values)
        listing.add_argument("--type", dest="event_type")
        listing.add_argument("--limit", type=int, default=50)
        again = actions.add_parser("resend", help="Send one delivery again (same webhook-id and body).")
        again.add_argument("integration")
        again.add_argument("delivery", type=int)
        recover = actions.add_parser("recover", help="Resend every failed or skipped delivery since a time.")
        recover.add_argument("integration")
        recover.add_argument("--since", required=True, help="ISO 8601 date and time, e.g. 2026-12-03T09:30:00Z")
        rotate = actions.add_parser("rotate-secret", help="Replace the signing secret; the old one keeps signing for 24 h.")
        rotate.add_argument("integration")
        rotate.add_argument("--secret", default="", help="Use this whsec_… secret instead of generating one.")
        test = actions.add_parser(
            "test", help="Send a test event now (webhook.test, or any catalogued type with its example data) and print how it went."
        )
        test.add_argument("integration")
        test.add_argument("--type", dest="event_type", default=TEST_EVENT_TYPE, help=f"The event type (default {TEST_EVENT_TYPE}).")
        for sub in (listing, again, recover, rotate, test):
            sub.add_argument("--workspace", default=DEFAULT_WORKSPACE)
            sub.add_argument("--json", action="store_true", help="Print JSON.")
        new = actions.add_parser(
            "new-secret",
            help="Print a new signing secret (whsec_…) to configure on a receiver and pass to `integration add webhook --set secret=…`."
        )
        new.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the chosen action."""
        if options["action"] == "new-secret":
            result: Any = self.do_new_secret(options)
        else:
            integration = endpoint(options["integration"], options["workspace"])
            result = getattr(self, "do_" + options["action"].replace("-", "_"))(integration, options)
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))

    def do_new_secret(self, options: dict) -> dict:
        """Print a fresh secret; hi keeps nothing of it (it is stored only when an endpoint is added with it)."""
        secret = standard_webhooks.generate_secret()
        if not options["json"]:
            self.stdout.write(secret)
        return {"secret": secret}

    def do_test(self, integration: Integration, options: dict) -> dict:
        """Send a test event now, as the worker would (same delivery, same log), and print the outcome."""
        if integration.state != IntegrationState.ACTIVE:
            raise CommandError("Activate the endpoint first: deliveries wait while it is not active.")
        try:
            outcome = send_test_now(integration, options["event_type"])
        except KeyError:
            known = ", ".join(test_events())
            raise CommandError(f"Unknown event type {options['event_type']!r}; send one of: {known}.") from None
        if not options["json"]:
            self.stdout.write(outcome_line(outcome))
        if not outcome["delivered"]:
            if options["json"]:
                self.stdout.write(json.dumps(outcome, indent=2))
            raise CommandError(f"The test event was not delivered: {outcome['error'] or outcome['status']}")
        return outcome

    def do_deliveries(self, integration: Integration, options: dict) -> list[dict]:
        """List deliveries."""
        rows = Delivery.objects.filter(integration=integration)
        if options["status"]:
            rows = rows.filter(status=options["status"])
        if options["event_type"]:
            rows = rows.filter(event_type=options["event_type"])
        found = [delivery_row(d) for d in rows.order_by("-created_at", "-id")[: max(1, options["limit"])]]
        if not options["json"]:
            for row in found:
                code = row["last_status_code"] or "—"
                self.stdout.write(
                    f"#{row['id']:<6} {row['status']:<9} {row['event_type']:<30} attempts={row['attempts']} last={code}  {row['reason']}"
                )
        return found

    def do_resend(self, integration: Integration, options: dict) -> dict:
        """Resend one delivery."""
        delivery = Delivery.objects.filter(pk=options["delivery"], integration=integration).first()
        if delivery is None:
            raise CommandError(f"No delivery {options['delivery']} for this endpoint.")
        try:
            deliveries.resend(delivery)
        except deliveries.ResendRefused as exc:
            raise CommandError(f"Not resent: {exc}.") from None
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS(f"Delivery #{delivery.pk} queued again."))
        return {"resent": delivery.pk}

    def do_recover(self, integration: Integration, options: dict) -> dict:
        """Resend failed and skipped deliveries since a time."""
        since = parse_datetime(options["since"])
        if since is None:
            raise CommandError("--since must be an ISO 8601 date and time, e.g. 2026-12-03T09:30:00Z.")
        if timezone.is_naive(since):
            since = timezone.make_aware(since, timezone.get_current_timezone())
        count = deliveries.recover(integration, since)
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS(f"{count} failed or skipped deliveries queued again."))
        return {"recovered": count, "since": since.isoformat()}

    def do_rotate_secret(self, integration: Integration, options: dict) -> dict:
        """Rotate the signing secret and print the new one (once)."""
        try:
            secret = rotation.rotate(integration, ACTOR, options["secret"] or None)
        except ValueError as exc:
            raise CommandError(f"secret: {exc}") from None
        ends = rotation.overlap_ends(integration)
        if not options["json"]:
            self.stdout.write(f"New signing secret (shown once): {secret}")
            if ends:
                self.stdout.write(f"The old secret also signs deliveries until {ends.isoformat()}.")
        return {"signing_secret": secret, "old_secret_signs_until": ends.isoformat() if ends else None}
