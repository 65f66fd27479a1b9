"""The webhooks gateway: one integration is one endpoint that receives hi's events, signed."""
from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
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
    ProviderError,
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

from .attributes import WebhookAttribute
from .client import TIMEOUT_S, body_bytes, normalise_url, parse_headers, parse_patterns, post, signed_headers
from .handlers import DELIVER_HANDLER, DELIVERY_HOOK, OWN_URL
from .inbound import WebhookReceiver
from .jobs import PRUNE_JOB
from .models import Delivery
from .pane import pane_context
from .rotation import overlap_ends, signing_secrets


def ping(url: str, secrets: list[str], extra: dict[str, str], integration: Integration | None = None, timeout_s: float = TIMEOUT_S) -> None:
    """Send a signed `ping` event; raise a ProviderError (UnsafeDestination for a refused URL) unless the receiver answers 2xx."""
    if is_own_receive_url(url):
        raise UnsafeDestination("webhook", f"refused to call the endpoint: {OWN_URL}")
    stamp = datetime.now(dt_timezone.utc).isoformat().replace("+00:00", "Z")
    body = body_bytes("ping", stamp, {})
    headers = signed_headers(standard_webhooks.new_message_id(), body, secrets, extra)
    post(url, body, headers, [*secrets, *extra.values()], integration=integration, timeout_s=timeout_s)


class WebhookGateway(IntegrationGateway):
    """Delivers the workspace's events to one URL as Standard Webhooks, at least once."""

    attribute_type = WebhookAttribute
    # The signing secret (generated on activation unless supplied) is shown once after adding.
    revealed_on_create = {"signing_secret": "secret"}
    capabilities = frozenset({Capability.DIRECTIVE_HANDLERS, Capability.EVENT_HOOKS, Capability.INBOUND_WEBHOOKS, Capability.SCHEDULED_JOBS})

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
        url = attributes["url"]
        # Without a secret yet (one is generated at activation), sign with a throwaway one.
        secret = attributes.get("secret") or standard_webhooks.generate_secret()
        try:
            ping(url, [secret], parse_headers(attributes.get("headers") or ""), timeout_s=min(timeout_s, TIMEOUT_S))
        except UnsafeDestination as exc:
            raise CannotConnect(str(exc)) from None
        except ProviderAuthError as exc:
            raise InvalidAuth(f"The receiver refused the signed ping (HTTP {exc.status}); check the secret.") from None
        except ProviderError as exc:
            detail = f"HTTP {exc.status}" if exc.status else str(exc)
            raise CannotConnect(f"The receiver did not accept the ping ({detail}).") from None
        return ConnectionInfo(unique_id=normalise_url(url), title=urlsplit(url).hostname or url)

    def activate(self, integration: Integration) -> None:
        """Make sure the endpoint has a signing secret, then ping it."""
        values = attribute_values(integration)
        secret = values.get("secret") or ""
        if not secret:
            secret = standard_webhooks.generate_secret()
            save_attributes(integration, {"secret": secret}, actor="hi")
        try:
            ping(values["url"], signing_secrets(integration, secret), parse_headers(values.get("headers") or ""), integration=integration)
        except ProviderError as exc:
            # A refused URL (UnsafeDestination) is a set-up error; a name that does not resolve is not ready yet.
            raise set_up_failure(exc, f"The receiver refused the signed ping (HTTP {exc.status}).") from None

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
            "deliveries": {s.value: 0 for s in Delivery.Status} | count_by_status(integration.webhook_deliveries.all()),
            "rotation_overlap_ends": overlap_ends(integration),
        }
