"""The iFood gateway: one integration is one app credential serving one or more merchants (stores)."""
from __future__ import annotations

from typing import Any, Mapping

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations.api import (
    CannotConnect,
    Capability,
    ConfigurationInvalid,
    ConnectionInfo,
    DirectiveHandler,
    Integration,
    IntegrationGateway,
    InvalidAuth,
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ScheduledJob,
    attribute_values,
    set_up_failure,
)
from hi.orders.models import Order
from hi.orders.sources import OrderAction, OrderSource

from . import actions, jobs
from .attributes import IFoodAttribute
from .client import IFoodClient, parse_merchants
from .handlers import ACTION_HANDLER, FETCH_HANDLER
from .inbound import IFoodReceiver
from .pane import pane_context


def _check_merchants(client: IFoodClient, merchant_ids: list[str]) -> list[dict[str, Any]]:
    """Each merchant's status; a merchant the credential may not serve is an auth failure (403)."""
    return [{"merchant_id": m, "status": client.merchant_status(m)} for m in merchant_ids]


class IFoodGateway(IntegrationGateway, OrderSource):
    """Receives iFood orders (polling or webhook), creates them in hi, and sends the operator's actions back."""

    attribute_type = IFoodAttribute
    logo = "ifood/logo.svg"
    # Acknowledgment state is per credential: two integrations polling one would split its orders. https://developer.ifood.com.br/en-US/docs/guides/modules/events/polling-overview
    single_consumer = "iFood delivers each event to one consumer only"
    capabilities = frozenset({
        Capability.SCHEDULED_JOBS, Capability.INBOUND_WEBHOOKS, Capability.DIRECTIVE_HANDLERS,
    })

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: at least one merchant id, no spaces inside ids, a base URL without query."""
        errors: dict[str, str] = {}
        merchants = parse_merchants(attributes.get("merchant_ids") or "")
        if not merchants:
            errors["merchant_ids"] = "Give at least one merchant id (comma-separated)."
        elif any(" " in m or len(m) > 100 for m in merchants):
            errors["merchant_ids"] = "Merchant ids are UUIDs separated by commas, without spaces inside an id."
        url = attributes.get("api_base_url") or ""
        if "?" in url or "#" in url:
            errors["api_base_url"] = "Give the base URL only, without ?query or #fragment."
        if errors:
            raise ConfigurationInvalid(errors)

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """A token from the credential, then each merchant's status; the client id identifies the integration."""
        client = IFoodClient(attributes, timeout_s=timeout_s)
        merchants = parse_merchants(attributes["merchant_ids"])
        try:
            client.token()
        except ProviderAuthError:
            raise InvalidAuth("iFood refused the client id and secret (Bad credentials).") from None
        except ProviderError as exc:
            raise CannotConnect(f"Cannot get a token from iFood: {exc}") from None
        try:
            statuses = _check_merchants(client, merchants)
        except ProviderAuthError as exc:
            raise InvalidAuth(f"The credential may not serve every merchant given (HTTP {exc.status}); check the merchant ids.") from None
        except ProviderRejected as exc:
            raise CannotConnect(f"iFood does not know a merchant id (HTTP {exc.status}); check the merchant ids.") from None
        except ProviderError as exc:
            raise CannotConnect(f"Cannot read the merchants' status: {exc}") from None
        count = len(merchants)
        title = f"iFood ({count} store{'s' if count != 1 else ''})"
        return ConnectionInfo(unique_id=str(attributes["client_id"]), title=title, details={"merchants": statuses})

    def activate(self, integration: Integration) -> None:
        """Get a token and read the merchants' status: the same checks as the connection test."""
        client = IFoodClient(attribute_values(integration), integration=integration)
        try:
            client.token()
            jobs.record_status(integration, client, strict=True)
        except ProviderError as exc:
            raise set_up_failure(exc, f"iFood refused the credential: {exc}") from None

    def deactivate(self, integration: Integration) -> None:
        """Nothing to undo at iFood: polling stops, so the merchants go offline after ~30 s (iFood's polling overview)."""

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Polling (single owner: two consumers of one credential split the queue) and the merchants' status."""
        return jobs.declared()

    def directive_handlers(self) -> list[DirectiveHandler]:
        """ifood.fetch_order and ifood.order_action."""
        return [FETCH_HANDLER, ACTION_HANDLER]

    def receiver(self, integration: Integration) -> IFoodReceiver:
        """Webhook mode's /hooks/<key>/, and the processing of polled events too."""
        return IFoodReceiver()

    def order_actions(self, integration: Integration, order: Order) -> list[OrderAction]:
        """What iFood accepts for this order now."""
        return actions.available(order)

    def order_action_choices(self, integration: Integration, order: Order, action: str) -> list[tuple[str, str]]:
        """Cancellation reasons, from iFood, for this order."""
        return actions.reasons(integration, order) if action == "request_cancellation" else []

    def perform_order_action(self, integration: Integration, order: Order, action: str, params: dict, *, actor: str) -> None:
        """Queue the action for the worker; the order changes when iFood's event arrives."""
        actions.perform(integration, order, action, params, actor)

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """The pane: merchants' status, polling, acknowledgments and where webhooks go."""
        return render_to_string("ifood/pane.html", pane_context(integration), request=request)

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """Merchants, mode, polling and acknowledgment health (never the secret)."""
        context = pane_context(integration)
        state = context["state"]
        return {
            "merchant_ids": context["merchant_ids"],
            "event_mode": context["event_mode"],
            "api_base_url": context["api_base_url"],
            "last_poll_at": state.last_poll_at.isoformat() if state.last_poll_at else None,
            "last_poll_error": state.last_poll_error,
            "ack_failures": state.ack_failures,
            "events_last_hour": context["events_last_hour"],
            "failed_events_last_day": context["failed_last_day"],
            "merchant_status": state.merchant_status,
        }
