"""manage.py messages: list a workspace's messages, send one, and settle a send that was not confirmed."""
from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.api import DEFAULT_WORKSPACE, Integration, find_workspace
from hi.messaging import api
from hi.messaging.channels import MessageRefused, TemplateSend
from hi.messaging.models import Message
from hi.orders.models import Order

ACTOR = "cli"


def message_row(message: Message) -> dict[str, Any]:
    """A message as the CLI prints it: what the hub's events say of it, with its status, error and time."""
    return {**api.message_data(message), "status": message.status, "error_code": message.error_code,
            "error": message.error_title or message.error_details, "created_at": message.created_at.isoformat()}


def find_integration(ident: str) -> Integration:
    """The integration with this id (its UUID names it in every workspace), else a CommandError."""
    try:
        pk = uuid.UUID(str(ident))
    except ValueError:
        raise CommandError(f"No integration {ident}.") from None
    integration = Integration.objects.select_related("workspace").filter(pk=pk).first()
    if integration is None:
        raise CommandError(f"No integration {ident}.")
    return integration


def find_order(workspace, ref: str | None) -> Order | None:
    """The workspace's order `ref` (None when not given), else a CommandError."""
    if not ref:
        return None
    order = Order.objects.filter(workspace=workspace, ref=ref).first()
    if order is None:
        raise CommandError(f"No order {ref} in workspace {workspace.slug}.")
    return order


class Command(BaseCommand):
    """manage.py messages list | send | retry | mark-sent."""

    help = "Messages: list a workspace's messages, send a text or a template, or settle a send that was not confirmed."

    def add_arguments(self, parser: CommandParser) -> None:
        """list | send | retry | mark-sent."""
        commands = parser.add_subparsers(dest="command", required=True)
        listing = commands.add_parser("list", help="List messages, newest first.")
        listing.add_argument("--workspace", default=DEFAULT_WORKSPACE)
        listing.add_argument("--order", default=None, help="Only the messages about this order (its ref).")
        listing.add_argument("--limit", type=int, default=100)
        listing.add_argument("--json", action="store_true", help="Print a JSON array.")
        send = commands.add_parser("send", help="Queue a message (a text within the 24-hour window, or an approved template).")
        send.add_argument("integration", help="The id of the integration that sends it.")
        send.add_argument("--to", required=True, help="The customer's phone number (+55 11 98765-4321; Brazil when no country code).")
        what = send.add_mutually_exclusive_group(required=True)
        what.add_argument("--text", help="A free-form text (only within 24 hours of the customer's last message).")
        what.add_argument("--template", help="An approved template's name.")
        send.add_argument("--lang", default="pt_BR", help="The template's language (default pt_BR).")
        send.add_argument("--param", action="append", default=[], help="A template parameter, in order ({{1}}, {{2}}, …); repeat it.")
        send.add_argument("--order", default=None, help="The order the message is about (its ref).")
        send.add_argument("--json", action="store_true", help="Print the queued message as JSON.")
        for name, text in (("retry", "Send a message that was not confirmed again, as a new message."),
                           ("mark-sent", "Mark a message that was not confirmed as sent.")):
            sub = commands.add_parser(name, help=text)
            sub.add_argument("message", type=int, help="The message's id.")
            sub.add_argument("--workspace", default=DEFAULT_WORKSPACE)
            sub.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the chosen command."""
        {"list": self.list_messages, "send": self.send, "retry": self.settle, "mark-sent": self.settle}[options["command"]](options)

    def list_messages(self, options: dict) -> None:
        """Print the workspace's messages (or an order's) as a table or JSON."""
        workspace = find_workspace(options["workspace"])
        rows = Message.objects.filter(workspace=workspace).select_related("contact", "order")
        order = find_order(workspace, options["order"])
        if order is not None:
            rows = rows.filter(order=order)
        found = list(rows.order_by("-created_at", "-id")[: max(1, options["limit"])])
        if options["json"]:
            self.stdout.write(json.dumps([message_row(m) for m in found], indent=2, ensure_ascii=False))
            return
        if not found:
            self.stdout.write(f"No messages in workspace {workspace.slug}.")
            return
        self.stdout.write(f"{'ID':>6} {'DIR':<3} {'STATUS':<9} {'PHONE':<16} {'ORDER':<22} TEXT")
        for m in found:
            text = m.preview.replace("\n", " ")[:60]
            self.stdout.write(
                f"{m.pk:>6} {m.direction:<3} {m.status:<9} {m.contact.phone:<16} {(m.order.ref if m.order_id else '—'):<22} {text}"
            )

    def send(self, options: dict) -> None:
        """Queue one message through the hub, refusing what the console refuses."""
        integration = find_integration(options["integration"])
        order = find_order(integration.workspace, options["order"])
        template = TemplateSend(options["template"], options["lang"], tuple(options["param"])) if options["template"] else None
        try:
            message = api.queue_outbound(
                integration, options["to"], text=options["text"] or "", template=template, order=order, actor=ACTOR
            )
        except MessageRefused as exc:
            raise CommandError(str(exc)) from None
        self.write_message(message, options, f"Queued message {message.pk} to {message.contact.phone}; the worker sends it.")

    def settle(self, options: dict) -> None:
        """Retry or mark as sent a message that was not confirmed."""
        workspace = find_workspace(options["workspace"])
        message = Message.objects.filter(
            workspace=workspace, pk=options["message"]
        ).select_related("contact", "integration", "order").first()
        if message is None:
            raise CommandError(f"No message {options['message']} in workspace {workspace.slug}.")
        try:
            if options["command"] == "retry":
                new = api.retry(message, actor=ACTOR)
                self.write_message(new, options, f"Sent again as message {new.pk}.")
            else:
                api.confirm_sent(message, actor=ACTOR)
                message.refresh_from_db()
                self.write_message(message, options, f"Message {message.pk} marked as sent.")
        except MessageRefused as exc:
            raise CommandError(str(exc)) from None

    def write_message(self, message: Message, options: dict, text: str) -> None:
        """The message as JSON, or a sentence."""
        if options.get("json"):
            self.stdout.write(json.dumps(message_row(message), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(self.style.SUCCESS(text))
