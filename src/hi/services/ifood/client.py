"""The iFood Merchant API client, built on the framework's HTTP client and token manager."""
from __future__ import annotations

import hashlib
import threading
from decimal import Decimal
from typing import Any, Iterable, Mapping

from hi.integrations.api import (
    Integration,
    ProviderClient,
    ProviderDataError,
    ProviderRejected,
    Token,
    TokenManager,
    attribute_values,
    client_for_integration,
    loads,
)

PROVIDER = "ifood"
TOKEN_PATH = "/authentication/v1.0/oauth/token"
ORDERS = "/order/v1.0/orders"
#: provider-apis.md §1.3: more than 100 ids in x-polling-merchants is a 400.
POLLING_MAX_MERCHANTS = 100
#: §1.4: the docs give 2,000 and 10,000 ids per acknowledgment; the smaller is safe under both.
ACK_MAX_IDS = 2000
#: Actions the Merchant API takes on an order (§1.7): POST /order/v1.0/orders/{id}/<action>.
ACTIONS = ("confirm", "startPreparation", "readyToPickup", "dispatch", "requestCancellation", "acceptCancellation", "denyCancellation")

_managers: dict[str, TokenManager] = {}
_managers_lock = threading.Lock()


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


def _token_fetcher(auth: ProviderClient, client_id: str, client_secret: str):
    """Fetch a token with iFood's camelCase client-credentials form (§1.2), not RFC 6749's snake_case."""

    def fetch() -> Token:
        """POST the form; turn iFood's accessToken/expiresIn answer into a Token."""
        response = auth.request(
            "POST",
            TOKEN_PATH,
            data={"grantType": "client_credentials", "clientId": client_id, "clientSecret": client_secret},
            headers={"Accept": "application/json"},
            idempotent=True,  # asking twice only yields two tokens
        )
        try:
            payload = loads(response.content)
            return Token.from_oauth({"access_token": payload.get("accessToken"), "expires_in": payload.get("expiresIn")})
        except (ValueError, AttributeError) as exc:
            raise ProviderRejected(PROVIDER, f"unusable token answer ({exc})", response.status_code) from None

    return fetch


def _key(base_url: str, client_id: str, client_secret: str) -> str:
    """The token cache key of a credential: host, client id and a digest of the secret (never the secret)."""
    digest = hashlib.sha256(client_secret.encode()).hexdigest()[:16]
    return f"ifood:{base_url.rstrip('/')}:{client_id}:{digest}"


def token_manager(base_url: str, client_id: str, client_secret: str, auth: ProviderClient) -> TokenManager:
    """The process's one token manager per credential (a changed secret gets a new one)."""
    key = _key(base_url, client_id, client_secret)
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = TokenManager(key, _token_fetcher(auth, client_id, client_secret))
        return manager


class IFoodClient:
    """Calls the Merchant API with a bearer token obtained and refreshed through the token manager."""

    def __init__(self, values: Mapping[str, Any], *, integration: Any = None, timeout_s: float = 10.0) -> None:
        base_url = values["api_base_url"]
        client_id, secret = values["client_id"], values["client_secret"]
        self.events_prefix = values.get("events_prefix") or "/events/v1.0"
        timeout = (min(3.05, timeout_s), timeout_s)
        if integration is None:  # a connection test: nothing kept, no breaker
            auth = ProviderClient(PROVIDER, base_url, timeout=timeout, secrets=(secret,))
            manager = TokenManager(f"{_key(base_url, client_id, secret)}:test", _token_fetcher(auth, client_id, secret))
            self.http = ProviderClient(PROVIDER, base_url, timeout=timeout, secrets=(secret,), token_manager=manager)
        else:
            auth = client_for_integration(integration, PROVIDER, base_url, timeout=timeout, secrets=(secret,))
            manager = token_manager(base_url, client_id, secret, auth)
            self.http = client_for_integration(integration, PROVIDER, base_url, timeout=timeout, secrets=(secret,), token_manager=manager)

    def token(self) -> str:
        """A valid access token (fetched when missing or due)."""
        return self.http.token_manager.get()

    def poll(self, merchant_ids: list[str]) -> list[Any]:
        """New events for up to 100 merchants, each as iFood sent it (the caller reads them one by one): [] on 204 (§1.3)."""
        response = self.http.request(
            "GET", f"{self.events_prefix}/events:polling", headers={"x-polling-merchants": ",".join(merchant_ids)}
        )
        if response.status_code == 204 or not response.content:
            return []
        try:
            events = loads(response.content, max_depth=None)  # each event's depth is checked on its own
        except ProviderDataError as exc:
            raise ProviderRejected(PROVIDER, f"polling answer is not usable JSON ({exc})", response.status_code, self.http.excerpt(response)) from None
        if not isinstance(events, list):
            raise ProviderRejected(PROVIDER, "polling answer is not a JSON array", response.status_code, self.http.excerpt(response))
        return events

    def acknowledge(self, event_ids: list[str]) -> None:
        """Acknowledge events by id (§1.4: a JSON array of {"id"}; 202)."""
        # Acknowledging twice is harmless, so the POST may be retried like a GET.
        self.http.request("POST", f"{self.events_prefix}/events/acknowledgment", json=[{"id": i} for i in event_ids], idempotent=True)

    def order(self, order_id: str) -> dict[str, Any]:
        """The order's details (§1.6), money as Decimal; a 404 right after PLC is normal (ProviderRejected, status 404)."""
        response = self.http.request("GET", f"{ORDERS}/{order_id}")
        try:
            # BRL decimals parsed straight to Decimal: a float would already have lost the cents.
            order = loads(response.content, parse_float=Decimal)
        except ProviderDataError as exc:
            raise ProviderRejected(PROVIDER, f"order answer is not usable JSON ({exc})", response.status_code, self.http.excerpt(response)) from None
        if not isinstance(order, dict):
            raise ProviderRejected(PROVIDER, "order answer is not a JSON object", response.status_code, self.http.excerpt(response))
        return order

    def action(self, order_id: str, action: str, body: dict[str, Any] | None = None) -> None:
        """POST one order action (§1.7); iFood answers 202 and the outcome arrives as an event."""
        if action not in ACTIONS:
            raise ValueError(f"unknown iFood order action {action!r}")
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        self.http.request("POST", f"{ORDERS}/{order_id}/{action}", **kwargs)

    def cancellation_reasons(self, order_id: str) -> list[dict[str, Any]]:
        """[{"cancelCodeId", "description"}] valid for this order now (§1.7)."""
        reasons = self.http.get_json(f"{ORDERS}/{order_id}/cancellationReasons")
        return [r for r in reasons if isinstance(r, dict)] if isinstance(reasons, list) else []

    def merchant_status(self, merchant_id: str) -> list[dict[str, Any]]:
        """The merchant's status per operation (§1.8)."""
        status = self.http.get_json(f"/merchant/v1.0/merchants/{merchant_id}/status")
        return [s for s in status if isinstance(s, dict)] if isinstance(status, list) else []


def client_for(integration: Integration, timeout_s: float = 10.0) -> IFoodClient:
    """The integration's Merchant API client, configured from its stored attributes (breaker, call log, shared token)."""
    return IFoodClient(attribute_values(integration), integration=integration, timeout_s=timeout_s)
