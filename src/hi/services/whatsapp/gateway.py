"""The WhatsApp gateway: one integration is one business phone number of the WhatsApp Business Cloud API."""
from __future__ import annotations

import re
from typing import Any, Mapping

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations.api import (
    CannotConnect,
    Capability,
    ConfigurationInvalid,
    ConnectionInfo,
    DirectiveHandler,
    EntityData,
    EventHook,
    Integration,
    IntegrationGateway,
    InvalidAuth,
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ScheduledJob,
    attribute_values,
    parse_entities,
    save_attributes,
    set_up_failure,
    sync_now,
)
from hi.messaging.channels import MediaContent, MessageChannel, TemplateOption
from hi.messaging.models import Message

from . import jobs, media, message_templates
from .attributes import WhatsAppAttribute, generate_verify_token
from .client import WhatsAppClient, client_for
from .handlers import NOTIFY_HOOK, SEND_HANDLER, queue_send
from .inbound import WhatsAppReceiver
from .notifications import parse_notifications
from .pane import diagnostics, pane_context

VERSION = re.compile(r"^v\d{1,3}\.\d{1,3}$")
DIGITS = re.compile(r"^\d{5,32}$")


def _title(info: Mapping[str, Any]) -> str:
    """The verified name and the display number, as the integration's default name."""
    name, number = str(info.get("verified_name") or "WhatsApp"), str(info.get("display_phone_number") or "")
    return f"{name} ({number})" if number else name


class WhatsAppGateway(IntegrationGateway, MessageChannel):
    """Sends the workspace's messages and order notifications, and receives customers' messages and every status."""

    # A MessageChannel of the messaging hub: its inbox, CLI and the order notifications send through send_message().

    attribute_type = WhatsAppAttribute
    logo = "whatsapp/logo.svg"
    # The verify token hi generated (when left blank) is shown once, to be typed in the App Dashboard.
    revealed_on_create = {"verify_token": "verify_token"}
    capabilities = frozenset({
        Capability.ENTITY_SYNC, Capability.DIRECTIVE_HANDLERS, Capability.EVENT_HOOKS, Capability.SCHEDULED_JOBS,
        Capability.INBOUND_WEBHOOKS,
    })

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: ids are digits, the version looks like v23.0, the notifications parse."""
        errors: dict[str, str] = {}
        for key, label in (("phone_number_id", "The phone number id"), ("business_account_id", "The business account id")):
            if not DIGITS.match(str(attributes.get(key) or "")):
                errors[key] = f"{label} is a number of digits (not the phone number itself)."
        if not VERSION.match(str(attributes.get("api_version") or "")):
            errors["api_version"] = "Give a Graph API version like v23.0."
        url = str(attributes.get("api_base_url") or "")
        if "?" in url or "#" in url:
            errors["api_base_url"] = "Give the base URL only, without ?query or #fragment."
        try:
            parse_notifications(attributes.get("notifications") or "")
        except ValueError as exc:
            errors["notifications"] = str(exc)
        if errors:
            raise ConfigurationInvalid(errors)

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """Read the phone number: the token works and the number is the business's; its id identifies the integration."""
        try:
            info = WhatsAppClient(attributes, timeout_s=timeout_s).phone_number()
        except ProviderAuthError as exc:
            code = f" (error {exc.code})" if exc.code else ""
            raise InvalidAuth(
                f"WhatsApp refused the access token{code}.",
                sentence="Meta refused the access token: use a System User's permanent token with whatsapp_business_messaging."
            ) from None
        except ProviderRejected as exc:
            code = f", error {exc.code}" if exc.code else ""
            raise CannotConnect(
                f"Meta does not know this phone number id, or the token may not read it (HTTP {exc.status}{code})."
            ) from None
        except ProviderError as exc:
            raise CannotConnect(f"Cannot reach WhatsApp: {exc}") from None
        return ConnectionInfo(unique_id=str(attributes["phone_number_id"]), title=_title(info), details={"phone": dict(info)})

    def record_connection_test(self, integration: Integration, details: Mapping[str, Any]) -> None:
        """Keep what the test read about the number."""
        if isinstance(details.get("phone"), dict):
            jobs.record_phone(integration, details["phone"])

    def activate(self, integration: Integration) -> None:
        """A verify token when none was given, the number read again, and the templates synced."""
        values = attribute_values(integration)
        if not values.get("verify_token"):
            save_attributes(integration, {"verify_token": generate_verify_token()}, actor="hi")
        try:
            jobs.record_phone(integration, client_for(integration).phone_number())
            sync_now(integration)
        except ProviderError as exc:
            raise set_up_failure(exc, f"WhatsApp refused the access token: {exc}") from None

    def deactivate(self, integration: Integration) -> None:
        """Nothing to undo at Meta: the callback stays set in the App Dashboard; notifications wait (503) until active."""

    def sync_entities(self, integration: Integration) -> list[EntityData]:
        """The business account's templates, every page."""
        client = client_for(integration)
        return parse_entities(integration, client.templates(), message_templates.entity_of)

    def directive_handlers(self) -> list[DirectiveHandler]:
        """whatsapp.send."""
        return [SEND_HANDLER]

    def event_hooks(self) -> list[EventHook]:
        """Order events: the notifications the operator mapped."""
        return [NOTIFY_HOOK]

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Templates every 6 hours, the number's quality rating every hour."""
        return [jobs.TEMPLATES_JOB, jobs.PHONE_JOB]

    def receiver(self, integration: Integration) -> WhatsAppReceiver:
        """Meta's verification GET and its notifications at /hooks/<key>/."""
        return WhatsAppReceiver()

    def send_message(self, integration: Integration, message: Message) -> None:
        """Queue the send (whatsapp.send), paced per customer."""
        queue_send(integration, message)

    def message_templates(self, integration: Integration) -> list[TemplateOption]:
        """The approved templates, as last synced."""
        return message_templates.approved(integration)

    def open_media(self, integration: Integration, message: Message) -> MediaContent:
        """A received message's media, fetched from Meta now."""
        return media.open_media(integration, message)

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """The pane: the number, its quality, the last 24 hours of messages, templates and where Meta posts."""
        return render_to_string("whatsapp/pane.html", pane_context(integration), request=request)

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """The number, its quality, message counts and templates (never a secret)."""
        return diagnostics(integration)

