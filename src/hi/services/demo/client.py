"""The demo provider's API client, built on the framework's HTTP client."""
from __future__ import annotations

from typing import Any, Iterator

from hi.integrations.api import Integration, ProviderClient, ProviderRejected, attribute_values, client_for_integration


class DemoClient:
    """Calls the demo provider with a bearer API key."""

    def __init__(self, api_url: str, api_key: str, timeout_s: float = 10.0, integration: Any = None) -> None:
        """A client for `api_url` with `api_key`; with an integration, its breaker and call log."""
        options = {"headers": {"Authorization": f"Bearer {api_key}"}, "timeout": (min(3.05, timeout_s), timeout_s)}
        if integration is None:  # a connection test: no integration yet, nothing to keep
            self.http = ProviderClient("demo", api_url, **options)
        else:
            self.http = client_for_integration(integration, "demo", api_url, secrets=(api_key,), **options)

    def account(self) -> dict[str, Any]:
        """The account the key belongs to: {"id", "name"}."""
        return self.http.get_json("/api/v1/account")

    def announce(self, status: str) -> None:
        """Tell the provider whether hi is connected (it shows this to the account owner)."""
        self.http.request("PUT", "/api/v1/connection", json={"status": status})

    def add_note(self, text: str, idempotency_key: str) -> dict[str, Any]:
        """Post a note; the provider stores one note per idempotency key (safe to retry)."""
        # The key makes the POST safe to repeat, so the client may retry it like a GET.
        return self.http.request(
            "POST", "/api/v1/notes", json={"text": text}, headers={"Idempotency-Key": idempotency_key}, idempotent=True
        ).json()

    def stream_url(self) -> str:
        """Where the provider pushes live item updates (a ws:// URL)."""
        return str(self.http.get_json("/api/v1/stream")["url"])

    def items(self, catalog: str, page_size: int) -> Iterator[dict[str, Any]]:
        """Every item of the catalog, following the provider's paging."""
        offset: int | None = 0
        while offset is not None:
            # A page is a batch's envelope: each item's depth is checked on its own (parse_entities).
            page = self.http.get_json("/api/v1/items", params={"status": catalog, "limit": page_size, "offset": offset}, max_depth=None)
            items = page.get("items", []) if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise ProviderRejected("demo", "the items page is not {items: [...], next_offset}", 200)
            yield from items  # each item is read on its own by the caller
            next_offset = page.get("next_offset")
            offset = next_offset if isinstance(next_offset, int) and not isinstance(next_offset, bool) and next_offset > offset else None


def client_for(integration: Integration, timeout_s: float = 10.0) -> DemoClient:
    """The integration's client, configured from its stored attributes (with its breaker and call log)."""
    values = attribute_values(integration)
    return DemoClient(values["api_url"], values["api_key"], timeout_s, integration=integration)
