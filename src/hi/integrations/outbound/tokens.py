"""OAuth-style access tokens: cached per key in the process, refreshed ahead of expiry, one refresh at a time; and oauth_client()."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import quote

from ..core.errors import ProviderRejected
from ..core.provider_data import loads
from ..core.redaction import remember
from .http import ProviderClient, client_for_integration

logger = logging.getLogger(__name__)

#: Refresh this long before expiry, or at 10% of the lifetime when that is shorter.
DEFAULT_MARGIN_S = 300.0
MARGIN_SHARE = 0.1
#: RFC 6749 §5.1 makes `expires_in` optional; assume an hour when a provider leaves it out.
DEFAULT_LIFETIME_S = 3600.0


@dataclass(frozen=True)
class Token:
    """An access token and when it expires (epoch seconds); the value never appears in repr."""

    value: str = field(repr=False)
    expires_at: float
    issued_at: float = field(default_factory=time.time)

    @classmethod
    def from_oauth(cls, payload: Mapping[str, Any], now: float | None = None) -> "Token":
        """A token from an RFC 6749 §5.1 answer ({"access_token", "expires_in", ...})."""
        now = time.time() if now is None else now
        value = payload.get("access_token") if isinstance(payload, Mapping) else None
        if not isinstance(value, str) or not value:
            raise ValueError("the token answer has no access_token")
        try:
            lifetime = float(payload.get("expires_in") or DEFAULT_LIFETIME_S)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME_S
        return cls(value=value, expires_at=now + max(0.0, lifetime), issued_at=now)

    def refresh_at(self, margin_s: float | None = None) -> float:
        """When to fetch the next token: `margin_s` before expiry (default: 5 min or 10% of the lifetime)."""
        if margin_s is None:
            margin_s = min(DEFAULT_MARGIN_S, MARGIN_SHARE * max(0.0, self.expires_at - self.issued_at))
        return self.expires_at - margin_s

    @property
    def expired(self) -> bool:
        """Whether the provider will refuse it by now."""
        return time.time() >= self.expires_at


# Process-wide: every client for the same key shares one token and one refresh.
_tokens: dict[str, Token] = {}
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    """The one lock that serializes refreshes of `key`."""
    with _guard:
        return _locks.setdefault(key, threading.Lock())


def forget_tokens() -> None:
    """Drop every cached token and every token manager oauth_client() kept (a new process starts like this)."""
    with _guard:
        _tokens.clear()
        _managers.clear()


class TokenManager:
    """Hands out the token cached under `key`, calling `fetch` when it is missing or due."""

    def __init__(self, key: str, fetch: Callable[[], Token], *, margin_s: float | None = None) -> None:
        """A manager for the token cached under `key`, got from `fetch`, refreshed `margin_s` ahead of expiry."""
        self.key = key
        self.fetch = fetch
        self.margin_s = margin_s

    def __repr__(self) -> str:
        """The manager and its key (never the token)."""
        return f"TokenManager({self.key!r})"

    def _fresh(self, token: Token | None) -> bool:
        """Whether a token is there and not yet due for a refresh."""
        return token is not None and time.time() < token.refresh_at(self.margin_s)

    @property
    def current(self) -> Token | None:
        """The cached token, whatever its age."""
        return _tokens.get(self.key)

    def get(self) -> str:
        """A token valid for a while yet; at most one thread fetches, the others wait for its result."""
        token = _tokens.get(self.key)
        if self._fresh(token):
            return token.value  # type: ignore[union-attr]
        with _lock_for(self.key):
            token = _tokens.get(self.key)
            if self._fresh(token):
                return token.value  # type: ignore[union-attr]  # another thread refreshed while we waited
            try:
                return self._store(self.fetch())
            except Exception as exc:
                if token is None or token.expired:
                    raise
                # Refreshing early leaves time: keep using the current token and try again next call.
                logger.warning(
                    "Token refresh for %s failed (%s); the current token is still valid", self.key, type(exc).__name__
                )
                return token.value

    def refresh(self, stale: str | None = None) -> str:
        """A new token because the provider refused `stale` (HTTP 401); one fetch however many threads ask."""
        with _lock_for(self.key):
            token = _tokens.get(self.key)
            if token is not None and stale is not None and token.value != stale and not token.expired:
                return token.value  # another thread already replaced the refused token
            _tokens.pop(self.key, None)
            return self._store(self.fetch())

    def _store(self, token: Token) -> str:
        """Cache a fetched token and remember it as a secret; return its value."""
        if not isinstance(token, Token):
            raise TypeError(f"{self.key}: the token fetcher must return a Token")
        _tokens[self.key] = token
        # A token is a credential too: the process's logs and stores redact it from now on.
        remember(f"token:{self.key}", [token.value])
        return token.value


@dataclass(frozen=True)
class TokenForm:
    """How a token endpoint spells the client-credentials request's fields and its answer's (RFC 6749 §4.4, §5.1)."""

    grant_type: str = "grant_type"
    client_id: str = "client_id"
    client_secret: str = "client_secret"
    scope: str = "scope"
    access_token: str = "access_token"
    expires_in: str = "expires_in"


#: RFC 6749's own names (https://www.rfc-editor.org/rfc/rfc6749#section-4.4).
RFC6749_FORM = TokenForm()
#: The same grant spelled in camelCase, as some providers' APIs do: grantType, clientId, clientSecret; accessToken, expiresIn.
CAMEL_CASE_FORM = TokenForm("grantType", "clientId", "clientSecret", "scope", "accessToken", "expiresIn")


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The `Authorization` value of HTTP Basic client authentication (RFC 6749 §2.3.1: each part form-encoded first)."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def client_credentials(
    http: ProviderClient,
    path: str,
    client_id: str,
    client_secret: str,
    *,
    scope: str | None = None,
    form_style: TokenForm = RFC6749_FORM,
    basic_auth: bool = False,
    **extra: str,
) -> Callable[[], Token]:
    """A fetcher for the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) at `path` of `http`."""
    # The credentials go in the form, named by `form_style`, or with `basic_auth` in an HTTP Basic header.

    def fetch() -> Token:
        """POST the grant; the token and its lifetime from the answer, read under `form_style`'s names."""
        form = {form_style.grant_type: "client_credentials", **extra}
        headers = {"Accept": "application/json"}
        if basic_auth:
            headers["Authorization"] = basic_credentials(client_id, client_secret)
        else:
            form.update({form_style.client_id: client_id, form_style.client_secret: client_secret})
        if scope:
            form[form_style.scope] = scope
        # Asking for a token twice only yields two tokens: safe to retry.
        response = http.request("POST", path, data=form, headers=headers, idempotent=True)
        try:
            answer = loads(response.content)
            if not isinstance(answer, Mapping):
                raise ValueError("not a JSON object")
            return Token.from_oauth(
                {"access_token": answer.get(form_style.access_token), "expires_in": answer.get(form_style.expires_in)}
            )
        except ValueError as exc:  # ProviderDataError included
            raise ProviderRejected(http.provider, f"unusable token answer ({exc})", response.status_code) from None

    return fetch


# oauth_client()'s token managers, one per integration and credential, so that the integration's kept
# client (whose cache key includes its manager) is found again instead of built anew on every call.
_managers: dict[tuple[Any, ...], TokenManager] = {}
MAX_MANAGERS = 1024


def credential_key(provider: str, base_url: str, token_path: str, client_id: str, client_secret: str, scope: str | None) -> str:
    """Whose token it is: the endpoint, the client id, the scope and a digest of the secret (never the secret itself)."""
    digest = hashlib.sha256(client_secret.encode()).hexdigest()[:16]
    return f"{provider}:{base_url.rstrip('/')}{token_path}:{client_id}:{scope or ''}:{digest}"


def oauth_client(
    integration: Any,
    provider: str,
    base_url: str,
    *,
    token_path: str,
    client_id: str,
    client_secret: str,
    form_style: TokenForm = RFC6749_FORM,
    basic_auth: bool = False,
    scope: str | None = None,
    margin_s: float | None = None,
    **options: Any,
) -> ProviderClient:
    """The client of a provider behind the OAuth 2.0 client-credentials grant: every call carries a shared bearer token."""
    # The token comes from `token_path` of `base_url`, is shared by every client of the same credential in the
    # process, is refreshed `margin_s` before it expires (default: 5 minutes, or 10% of its lifetime) by one
    # thread while the others wait, and is replaced once, and the call sent again, when the provider answers 401.
    # `integration` None is a connection test: a bare client (no breaker, call log or kept session) whose token
    # is kept apart from the integrations'. `options` are ProviderClient's (timeout, headers, secrets, ...).
    secrets = (*options.pop("secrets", ()), client_secret, *([basic_credentials(client_id, client_secret)] if basic_auth else []))
    key = credential_key(provider, base_url, token_path, client_id, client_secret, scope)
    grant = {"scope": scope, "form_style": form_style, "basic_auth": basic_auth}
    if integration is None:
        auth = ProviderClient(provider, base_url, secrets=secrets, **options)
        manager = TokenManager(f"{key}:test", client_credentials(auth, token_path, client_id, client_secret, **grant), margin_s=margin_s)
        return ProviderClient(provider, base_url, secrets=secrets, token_manager=manager, **options)
    auth = client_for_integration(integration, provider, base_url, secrets=secrets, **options)
    # The token request goes through the integration's own client (its breaker and call log), so the manager is
    # the integration's; the token it caches under `key` is the credential's, shared with every other manager.
    slot = (integration.pk, key, id(auth), form_style, basic_auth, margin_s)
    with _guard:
        manager = _managers.get(slot)
        if manager is None:
            if len(_managers) >= MAX_MANAGERS:
                _managers.clear()  # configurations changed many times: start over rather than grow
            fetch = client_credentials(auth, token_path, client_id, client_secret, **grant)
            manager = _managers[slot] = TokenManager(key, fetch, margin_s=margin_s)
    return client_for_integration(integration, provider, base_url, secrets=secrets, token_manager=manager, **options)
