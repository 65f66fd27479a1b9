"""Airtime vouchers's API client, built on the framework's HTTP client."""
from __future__ import annotations

from typing import Any, Mapping

from hi.integrations.api import Integration, ProviderClient, attribute_values, client_for_integration

PROVIDER = "airtime"


class AirtimeClient:
    """Calls Airtime vouchers's API with the account's key in X-API-Key."""

    def __init__(self, values: Mapping[str, Any], *, integration: Integration | None = None, timeout_s: float = 10.0) -> None:
        """A client from attribute values: the integration's kept one, or with no integration a bare one for a connection test."""
        timeout = (min(3.05, timeout_s), timeout_s)
        options: dict[str, Any] = {"headers": {"X-API-Key": values["api_key"]}, "secrets": (values["api_key"],), "timeout": timeout}
        if integration is None:  # a connection test: no integration yet, nothing to keep
            self.http = ProviderClient(PROVIDER, values["api_base_url"], **options)
        else:
            self.http = client_for_integration(integration, PROVIDER, values["api_base_url"], **options)

    def account(self) -> dict[str, Any]:
        """The account hi is connected to: {"id", "name"}."""
        return self.http.get_json("/api/v1/account")


def client_for(integration: Integration, timeout_s: float = 10.0) -> AirtimeClient:
    """The integration's client, configured from its stored attributes (with its breaker and call log)."""
    return AirtimeClient(attribute_values(integration), integration=integration, timeout_s=timeout_s)
