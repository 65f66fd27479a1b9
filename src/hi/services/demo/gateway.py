"""The demo provider's gateway: the smallest complete example of the integration contract."""
from __future__ import annotations

from typing import Any, Mapping

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations.api import (  # noqa: F401 - EntityData: the contract's type
    CannotConnect,
    Capability,
    ConfigurationInvalid,
    ConnectionInfo,
    DirectiveHandler,
    EntityData,
    EventHook,
    Integration,
    IntegrationAuthFailed,
    IntegrationGateway,
    InvalidAuth,
    ProviderAuthError,
    ProviderError,
    ScheduledJob,
    attribute_values,
    parse_entities,
    set_up_failure,
    sync_now,
)

from .attributes import DemoAttribute
from .client import DemoClient, client_for
from .handlers import FORWARD_HOOK, NOTE_HANDLER, item_entity
from .jobs import HEALTH_JOB, SYNC_JOB
from .listeners import ItemStream
from .pane import pane_context


class DemoGateway(IntegrationGateway):
    """Connects to the demo provider and syncs its items as entities."""

    attribute_type = DemoAttribute
    capabilities = frozenset(
        {
            Capability.ENTITY_SYNC,
            Capability.DIRECTIVE_HANDLERS,
            Capability.EVENT_HOOKS,
            Capability.SCHEDULED_JOBS,
            Capability.WEBSOCKET_LISTENERS,
        }
    )
    logo = "demo/logo.svg"

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: the API URL is a base URL, without query or fragment."""
        url = attributes.get("api_url", "")
        if "?" in url or "#" in url:
            raise ConfigurationInvalid({"api_url": "Give the base URL only, without ?query or #fragment."})

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """Ask the provider whose key this is; the account id is the unique id."""
        try:
            account = DemoClient(attributes["api_url"], attributes["api_key"], timeout_s).account()
        except ProviderAuthError as exc:
            raise InvalidAuth(str(exc)) from None
        except ProviderError as exc:
            raise CannotConnect(str(exc)) from None
        return ConnectionInfo(unique_id=str(account["id"]), title=account.get("name", ""))

    def activate(self, integration: Integration) -> None:
        """Check the account is still the same, announce hi, and sync the items if configured."""
        values = attribute_values(integration)
        client = client_for(integration)
        try:
            account = client.account()
            if str(account.get("id")) != integration.unique_id:
                raise IntegrationAuthFailed("The API key now belongs to another account; re-authenticate.")
            client.announce("connected")
            if values.get("sync_on_activate"):
                sync_now(integration)
        except ProviderError as exc:
            raise set_up_failure(exc) from None

    def deactivate(self, integration: Integration) -> None:
        """Tell the provider hi is no longer connected; failures surface as failed_deactivate."""
        client_for(integration).announce("disconnected")

    def sync_entities(self, integration: Integration) -> list[EntityData]:
        """Every readable item of the configured catalog (one that is not is skipped and logged)."""
        values = attribute_values(integration)
        items = client_for(integration).items(values["catalog"], values["page_size"])
        return parse_entities(integration, items, item_entity)

    def directive_handlers(self) -> list[DirectiveHandler]:
        """demo.send_note: post a note to the provider."""
        return [NOTE_HANDLER]

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """A health check every minute and an item sync every ten minutes (one worker at a time)."""
        return [HEALTH_JOB, SYNC_JOB]

    def websocket_listeners(self, integration: Integration) -> list[ItemStream]:
        """The live item stream, when the integration asks for live updates."""
        return [ItemStream(integration)] if attribute_values(integration).get("live_updates") else []

    def event_hooks(self) -> list[EventHook]:
        """Every event, forwarded as a note when the integration's forward_events is on."""
        return [FORWARD_HOOK]

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """The demo pane: what the provider is and how to make it misbehave."""
        return render_to_string("demo/pane.html", pane_context(integration), request=request)

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """Where the provider is and how many items are known."""
        values = attribute_values(integration)
        return {"api_url": values["api_url"], "catalog": values["catalog"], "items_known": integration.entities.count()}
