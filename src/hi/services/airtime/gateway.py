"""The airtime gateway: one integration is one account at a voucher provider, buying a voucher per unit of each confirmed airtime line."""
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
    EventHook,
    Integration,
    IntegrationAuthFailed,
    IntegrationGateway,
    InvalidAuth,
    ProviderAuthError,
    ProviderError,
    ScheduledJob,
    attribute_values,
    count_by_status,
    set_up_failure,
)

from .attributes import AirtimeAttribute, parse_product_map
from .client import AirtimeClient, client_for
from .handlers import CONFIRMED_HOOK, ISSUE_HANDLER
from .jobs import CHECK_JOB
from .models import Voucher
from .pane import pane_context


class AirtimeGateway(IntegrationGateway):
    """Connects to the voucher provider; confirmed orders' airtime lines become vouchers, pending ones are checked until final."""

    attribute_type = AirtimeAttribute
    capabilities = frozenset({Capability.DIRECTIVE_HANDLERS, Capability.EVENT_HOOKS, Capability.SCHEDULED_JOBS})
    logo = "airtime/logo.svg"

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: a base URL without query or fragment, and a product map of SKU=product pairs."""
        errors: dict[str, str] = {}
        url = attributes.get("api_base_url") or ""
        if "?" in url or "#" in url:
            errors["api_base_url"] = "Give the base URL only, without ?query or #fragment."
        try:
            parse_product_map(attributes.get("product_map") or "")
        except ValueError as exc:
            errors["product_map"] = str(exc)
        if errors:
            raise ConfigurationInvalid(errors)

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """A signed GET /balance: the key and the signing secret are accepted, and the account it names identifies the integration."""
        try:
            balance = AirtimeClient(attributes, timeout_s=timeout_s).balance()
        except ProviderAuthError as exc:
            raise InvalidAuth(str(exc), sentence="The provider refused the API key or the signature: check both.") from None
        except ProviderError as exc:
            raise CannotConnect(str(exc)) from None
        if not balance.get("account"):
            raise CannotConnect("The provider's balance answer names no account.")
        return ConnectionInfo(unique_id=str(balance["account"]), title=str(balance.get("name") or ""))

    def activate(self, integration: Integration) -> None:
        """The provider still answers for the same account (outages retry, a refused key or signature is auth_failed)."""
        try:
            balance = client_for(integration).balance()
        except ProviderError as exc:
            raise set_up_failure(exc) from None
        if str(balance.get("account")) != integration.unique_id:
            raise IntegrationAuthFailed("The API key now belongs to another account; re-authenticate.")

    def deactivate(self, integration: Integration) -> None:
        """Nothing is registered at the provider; queued directives wait until the integration is active again."""

    def directive_handlers(self) -> list[DirectiveHandler]:
        """airtime.issue: buy the vouchers of one order line."""
        return [ISSUE_HANDLER]

    def event_hooks(self) -> list[EventHook]:
        """order.status_changed: a confirmed order's airtime lines are queued."""
        return [CONFIRMED_HOOK]

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Every minute: pending vouchers are checked until final."""
        return [CHECK_JOB]

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """The pane: the provider's balance, the products and the vouchers by status."""
        return render_to_string("airtime/pane.html", pane_context(integration), request=request)

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """Where the provider is, the products mapped and the vouchers by status (never a code)."""
        values = attribute_values(integration)
        statuses = count_by_status(Voucher.objects.filter(integration=integration))
        return {"api_base_url": values["api_base_url"], "product_map": values["product_map"], "vouchers": statuses}
