"""Airtime vouchers's gateway: connects hi to Airtime vouchers's account."""
from __future__ import annotations

from typing import Any, Mapping

from django.http import HttpRequest
from django.template.loader import render_to_string

from hi.integrations.api import (
    CannotConnect,
    Capability,
    ConfigurationInvalid,
    ConnectionInfo,
    Integration,
    IntegrationAuthFailed,
    IntegrationGateway,
    InvalidAuth,
    ProviderAuthError,
    ProviderError,
    ScheduledJob,
    attribute_values,
    set_up_failure,
)

from .attributes import AirtimeAttribute
from .client import AirtimeClient, client_for
from .jobs import CHECK_JOB
from .pane import pane_context


class AirtimeGateway(IntegrationGateway):
    """Connects to Airtime vouchers's API; the account it answers for identifies the integration."""

    attribute_type = AirtimeAttribute
    capabilities = frozenset({
        Capability.SCHEDULED_JOBS,
    })
    logo = "airtime/logo.svg"

    def validate_configuration(self, attributes: Mapping[str, Any]) -> None:
        """Offline rules: the API base URL is a base URL, without query or fragment."""
        url = attributes.get("api_base_url") or ""
        if "?" in url or "#" in url:
            raise ConfigurationInvalid({"api_base_url": "Give the base URL only, without ?query or #fragment."})

    def test_connection(self, attributes: Mapping[str, Any], timeout_s: float) -> ConnectionInfo:
        """Ask Airtime vouchers which account this is; the account's id is the integration's unique id."""
        try:
            account = AirtimeClient(attributes, timeout_s=timeout_s).account()
        except ProviderAuthError as exc:
            raise InvalidAuth(str(exc)) from None
        except ProviderError as exc:
            raise CannotConnect(str(exc)) from None
        if not isinstance(account, dict) or not account.get("id"):
            raise CannotConnect("Airtime vouchers answered without an account id.")
        return ConnectionInfo(unique_id=str(account["id"]), title=str(account.get("name") or ""))

    def activate(self, integration: Integration) -> None:
        """Check Airtime vouchers still answers, for the same account (outages retry, refused credentials are auth_failed)."""
        try:
            account = client_for(integration).account()
        except ProviderError as exc:
            raise set_up_failure(exc) from None
        if not isinstance(account, dict) or str(account.get("id")) != integration.unique_id:
            raise IntegrationAuthFailed("The credentials now belong to another account; re-authenticate.")

    def deactivate(self, integration: Integration) -> None:
        """Nothing was registered at Airtime vouchers, so there is nothing to undo."""

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """Every five minutes: check Airtime vouchers still accepts hi's credentials."""
        return [CHECK_JOB]

    def manage(self, request: HttpRequest, integration: Integration) -> str:
        """The service's pane on the manage page."""
        return render_to_string("airtime/pane.html", pane_context(integration), request=request)

    def diagnostics(self, integration: Integration) -> dict[str, Any]:
        """Where the API is (the framework redacts every secret anyway)."""
        return {"api_base_url": attribute_values(integration)["api_base_url"]}
