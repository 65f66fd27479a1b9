"""The airtime gateway: one integration is one account at a voucher provider, buying a voucher per unit of each confirmed airtime line."""
from __future__ import annotations

from typing import Any, Mapping

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations import api

from .attributes import AirtimeAttribute, parse_product_map
from .client import AirtimeClient, client_for
from .handlers import CONFIRMED_HOOK, ISSUE_HANDLER
from .jobs import CHECK_JOB
from .pane import pane_context


class AirtimeGateway(api.IntegrationGateway):
    """Connects to the voucher provider; confirmed orders' airtime lines become vouchers, pending ones are checked until final."""

    attribute_type = AirtimeAttribute
    capabilities = frozenset({api.Capability.DIRECTIVE_HANDLERS, api.Capability.EVENT_HOOKS, api.Capability.SCHEDULED_JOBS})
    logo = "airtime/logo.svg"

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: a base URL without query or fragment, and a product map of SKU=product pairs."""
        url = attributes.get("api_base_url") or ""
        errors = {"api_base_url": "Give the base URL only, without ?query or #fragment."} if "?" in url or "#" in url else {}
        try:
            parse_product_map(attributes.get("product_map") or "")
        except ValueError as exc:
            errors["product_map"] = str(exc)
        if errors:
            raise api.ConfigurationInvalid(errors)

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> api.ConnectionInfo:
        """A signed GET /balance (a refused key or signature is invalid_auth); the account it names identifies the integration."""
        balance = AirtimeClient(attributes, timeout_s=timeout_s).balance()
        if not balance.get("account"):
            raise api.CannotConnect("The provider's balance answer names no account.")
        return api.ConnectionInfo(unique_id=str(balance["account"]), title=str(balance.get("name") or ""))

    def activate(self, integration: api.Integration) -> None:
        """The provider still answers for the same account (an outage retries, a refused key or signature is auth_failed)."""
        if str(client_for(integration).balance().get("account")) != integration.unique_id:
            raise api.IntegrationAuthFailed("The API key now belongs to another account; re-authenticate.")

    def deactivate(self, integration: api.Integration) -> None:
        """Nothing is registered at the provider; queued directives wait until the integration is active again."""

    def directive_handlers(self) -> list[api.DirectiveHandler]:
        """airtime.issue: buy the vouchers of one order line."""
        return [ISSUE_HANDLER]

    def event_hooks(self) -> list[api.EventHook]:
        """order.status_changed: a confirmed order's airtime lines are queued."""
        return [CONFIRMED_HOOK]

    def scheduled_jobs(self) -> list[api.ScheduledJob]:
        """Every minute: pending vouchers are checked until final."""
        return [CHECK_JOB]

    def manage(self, request: HttpRequest, integration: api.Integration) -> str:
        """The pane: the provider's balance, the products and the vouchers by status."""
        return render_to_string("airtime/pane.html", pane_context(integration), request=request)
