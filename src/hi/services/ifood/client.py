"""The iFood Merchant API client, built on the framework's OAuth client-credentials client."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

from hi.integrations.api import (
    CAMEL_CASE_FORM,
    Integration,
    ProviderDataError,
    ProviderRejected,
    attribute_values,
    loads,
    oauth_client,
)

PROVIDER = "ifood"
TOKEN_PATH = "/authentication/v1.0/oauth/token"
ORDERS = "/order/v1.0/orders"
#: More than 100 ids in x-polling-merchants is a 400: https://developer.ifood.com.br/en-US/docs/guides/modules/events/polling-overview
POLLING_MAX_MERCHANTS = 100
#: iFood's pages give 2,000 and 10,000 ids per acknowledgment; the smaller is safe under both: https://developer.ifood.com.br/en-US/docs/guides/modules/events/polling-overview
ACK_MAX_IDS = 2000
#: Actions the Merchant API takes on an order, POST /order/v1.0/orders/{id}/<action>: https://developer.ifood.com.br/en-US/docs/guides/modules/order/endpoints
ACTIONS = ("confirm", "startPreparation", "readyToPickup", "dispatch", "requestCancellation", "acceptCancellation", "denyCancellation")


def parse_merchants(text: str) -> list[str]:
    """The comma-separated merchant ids, stripped, without blanks or repeats, in order."""
    seen: dict[str, None] = {}
    for part in (text or "").split(","):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    """`items` in consecutive lists of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


class IFoodClient:
    """Calls the Merchant API with a bearer token the framework's OAuth client obtains, shares and refreshes."""

    def __init__(self, values: Mapping[str, Any], *, integration: Any = None, timeout_s: float = 10.0) -> None:
        """A client for the configured `values`; with an integration, its tokens, breaker and call log."""
        self.events_prefix = values.get("events_prefix") or "/events/v1.0"
        # iFood's token endpoint takes the client-credentials grant in camelCase (grantType, clientId,
        # clientSecret) and answers accessToken/expiresIn. Without an integration (a connection test) the
        # client keeps nothing and has no breaker.
        self.http = oauth_client(
            integration, PROVIDER, values["api_base_url"], token_path=TOKEN_PATH, client_id=values["client_id"],
            client_secret=values["client_secret"], form_style=CAMEL_CASE_FORM, timeout=(min(3.05, timeout_s), timeout_s),
        )

    def token(self) -> str:
        """A valid access token (fetched when missing or due)."""
        return self.http.token_manager.get()

    def poll(self, merchant_ids: list[str]) -> list[Any]:
        """New events for up to 100 merchants, each as iFood sent it (the caller reads them one by one); [] on 204."""
        # iFood's polling overview says so.
        response = self.http.request(
            "GET", f"{self.events_prefix}/events:polling", headers={"x-polling-merchants": ",".join(merchant_ids)}
        )
        if response.status_code == 204 or not response.content:
            return []
        try:
            events = loads(response.content, max_depth=None)  # each event's depth is checked on its own
        except ProviderDataError as exc:
            raise ProviderRejected(
                PROVIDER, f"polling answer is not usable JSON ({exc})", response.status_code, self.http.excerpt(response)
            ) from None
        if not isinstance(events, list):
            raise ProviderRejected(PROVIDER, "polling answer is not a JSON array", response.status_code, self.http.excerpt(response))
        return events

    def acknowledge(self, event_ids: list[str]) -> None:
        """Acknowledge events by id (a JSON array of {"id"}; 202, per iFood's polling overview)."""
        # Acknowledging twice is harmless, so the POST may be retried like a GET.
        self.http.request("POST", f"{self.events_prefix}/events/acknowledgment", json=[{"id": i} for i in event_ids], idempotent=True)

    def order(self, order_id: str) -> dict[str, Any]:
        """The order's details (iFood's order workflow page), money as Decimal."""
        # A 404 right after PLC is normal: it raises ProviderRejected with status 404.
        response = self.http.request("GET", f"{ORDERS}/{order_id}")
        try:
            # BRL decimals parsed straight to Decimal: a float would already have lost the cents.
            order = loads(response.content, parse_float=Decimal)
        except ProviderDataError as exc:
            raise ProviderRejected(
                PROVIDER, f"order answer is not usable JSON ({exc})", response.status_code, self.http.excerpt(response)
            ) from None
        if not isinstance(order, dict):
            raise ProviderRejected(PROVIDER, "order answer is not a JSON object", response.status_code, self.http.excerpt(response))
        return order

    def action(self, order_id: str, action: str, body: dict[str, Any] | None = None) -> None:
        """POST one order action (iFood's order endpoints page); iFood answers 202 and the outcome arrives as an event."""
        if action not in ACTIONS:
            raise ValueError(f"unknown iFood order action {action!r}")
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        self.http.request("POST", f"{ORDERS}/{order_id}/{action}", **kwargs)

    def cancellation_reasons(self, order_id: str) -> list[dict[str, Any]]:
        """[{"cancelCodeId", "description"}] valid for this order now (iFood's order endpoints page)."""
        reasons = self.http.get_json(f"{ORDERS}/{order_id}/cancellationReasons")
        return [r for r in reasons if isinstance(r, dict)] if isinstance(reasons, list) else []

    def merchant_status(self, merchant_id: str) -> list[dict[str, Any]]:
        """The merchant's status per operation (iFood's merchant endpoints page)."""
        status = self.http.get_json(f"/merchant/v1.0/merchants/{merchant_id}/status")
        return [s for s in status if isinstance(s, dict)] if isinstance(status, list) else []


def client_for(integration: Integration, timeout_s: float = 10.0) -> IFoodClient:
    """The integration's Merchant API client, configured from its stored attributes (breaker, call log, shared token)."""
    return IFoodClient(attribute_values(integration), integration=integration, timeout_s=timeout_s)
