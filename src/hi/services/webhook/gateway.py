"""The webhooks gateway: one integration is one endpoint that receives hi's events, signed."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations.api import (
    CannotConnect,
    Capability,
    ConfigurationInvalid,
    ConnectionInfo,
    DirectiveHandler,
    EventHook,
    Integration,
    IntegrationGateway,
    InvalidAuth,
    ProviderAuthError,
    ScheduledJob,
    UnsafeDestination,
    attribute_values,
    count_by_status,
    display_values,
    is_own_receive_url,
    save_attributes,
    set_up_failure,
    standard_webhooks,
)

from . import deliveries, pings
from .attributes import WebhookAttribute
from .client import TIMEOUT_S, normalise_url, parse_headers, parse_patterns
from .handlers import DELIVER_HANDLER, DELIVERY_HOOK, OWN_URL
from .inbound import WebhookReceiver
from .jobs import PRUNE_JOB
from .models import Delivery
from .pane import pane_context
from .rotation import overlap_ends, signing_secrets

#: Where prepare_connection_test puts the secrets an existing endpoint signs with (no attribute has this key).
SIGNING_SECRETS = "_signing_secrets"


class WebhookGateway(IntegrationGateway):
    """Delivers the workspace's events to one URL as Standard Webhooks, at least once."""

    attribute_type = WebhookAttribute
    # The signing secret (generated on activation unless supplied) is shown once after adding.
    revealed_on_create = {"signing_secret": "secret"}
    capabilities = frozenset(
        {Capability.DIRECTIVE_HANDLERS, Capability.EVENT_HOOKS, Capability.INBOUND_WEBHOOKS, Capability.SCHEDULED_JOBS}
    )
    logo = "webhook/logo.svg"

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: not one of hi's own receive URLs, a well-formed events filter and a Standard Webhooks secret."""
        errors: dict[str, str] = {}
        # The URL's type has checked it is a URL hi may call; forwarding to ourselves would loop.
        if is_own_receive_url(attributes.get("url") or ""):
            errors["url"] = f"This URL cannot be used: {OWN_URL}"
        try:
            parse_patterns(attributes.get("events") or "*")
        except ValueError as exc:
            errors["events"] = str(exc)
        try:
            parse_headers(attributes.get("headers") or "")
        except ValueError as exc:
            errors["headers"] = str(exc)
        secret = attributes.get("secret") or ""
        if secret:
            try:
                standard_webhooks.secret_bytes(secret)
            except ValueError as exc:
                errors["secret"] = f"{str(exc).capitalize()}; leave blank to generate one."
        if errors:
            raise ConfigurationInvalid(errors)

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """A signed ping must get a 2xx; the normalised URL identifies the endpoint."""
        # The ping is signed like a delivery: with the secret, and during a rotation's overlap the retired ones too
        # (prepare_connection_test adds them), so a receiver still on the old secret accepts it.
        url = attributes["url"]
        secret = attributes.get("secret") or ""
        # Without a secret yet (one is generated at activation), sign with a throwaway one.
        secrets = list(attributes.get(SIGNING_SECRETS) or [secret or standard_webhooks.generate_secret()])
        ping = pings.send(url, secrets, parse_headers(attributes.get("headers") or ""), timeout_s=min(timeout_s, TIMEOUT_S))
        details = {"ping": ping.details()}
        exc = ping.failure
        if isinstance(exc, UnsafeDestination):
            raise CannotConnect(str(exc), details=details)
        if isinstance(exc, ProviderAuthError):
            # The webhook's exception to set-up's rule: the receiver's own short refusal says which check failed.
            raise InvalidAuth(pings.answer_note(ping).strip(), sentence=pings.refusal_sentence(exc.status, bool(secret)), details=details)
        if exc is not None:
            detail = f"HTTP {exc.status}" if exc.status else str(exc)
            raise CannotConnect(f"The receiver did not accept the ping ({detail}).", details=details)
        return ConnectionInfo(unique_id=normalise_url(url), title=urlsplit(url).hostname or url, details=details)

    def prepare_connection_test(self, integration: Integration, attributes: Mapping[str, Any]) -> Mapping[str, Any]:
        """An existing endpoint's ping is signed with every secret its deliveries are signed with."""
        secret = attributes.get("secret") or ""
        return {**attributes, SIGNING_SECRETS: signing_secrets(integration, secret) if secret else []}

    def record_connection_test(self, integration: Integration, details: Mapping[str, Any]) -> None:
        """The connection test's ping goes into the delivery log, marked as a ping."""
        if details.get("ping"):
            deliveries.record_ping(integration, dict(details["ping"]), "Connection test")

    def activate(self, integration: Integration) -> None:
        """Make sure the endpoint has a signing secret, then ping it (logged in the delivery log)."""
        values = attribute_values(integration)
        secret = values.get("secret") or ""
        if not secret:
            secret = standard_webhooks.generate_secret()
            save_attributes(integration, {"secret": secret}, actor="hi")
        ping = pings.send(
            values["url"], signing_secrets(integration, secret), parse_headers(values.get("headers") or ""), integration=integration
        )
        deliveries.record_ping(integration, ping.details(), "Activation")
        exc = ping.failure
        if exc is not None:
            # A refused URL (UnsafeDestination) is a set-up error; a name that does not resolve is not ready yet.
            said = pings.refusal_sentence(exc.status, retry="Activate again") if isinstance(exc, ProviderAuthError) else ""
            raise set_up_failure(exc, f"{said}{pings.answer_note(ping)}") from None

    def deactivate(self, integration: Integration) -> None:
        """Nothing to tell the receiver: queued deliveries wait until the endpoint is active again."""

    def directive_handlers(self) -> list[DirectiveHandler]:
        """webhook.deliver: POST one event to the endpoint."""
        return [DELIVER_HANDLER]

    def event_hooks(self) -> list[EventHook]:
        """Every event, queued for the endpoints whose filter selects it."""
        return [DELIVERY_HOOK]

    def receiver(self, integration: Integration) -> WebhookReceiver:
        """Senders post Standard Webhooks signed with the endpoint's secret to its receive URL, /hooks/<key>/."""
        return WebhookReceiver()

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Hourly: forget finished deliveries older than HI_RETENTION_DAYS."""
        return [PRUNE_JOB]

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """The pane: the endpoint, its deliveries, its filter, how receivers verify, and its receive URL."""
        return render_to_string("webhook/pane.html", pane_context(integration), request=request)

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """The endpoint and its filter (never the secret), and how many deliveries are pending."""
        shown = display_values(integration)
        return {
            "url": shown.get("url", ""),
            "events": shown.get("events") or "*",
            "secret_set": bool(shown.get("secret")),
            "deliveries": {s.value: 0 for s in Delivery.Status} | count_by_status(deliveries.sent(integration)),
            "rotation_overlap_ends": overlap_ends(integration),
        }
