"""OAuth-style access tokens: cached per key in the process, refreshed ahead of expiry, once at a time."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..core.errors import ProviderRejected
from ..core.provider_data import loads
from ..core.redaction import remember
from .http import ProviderClient

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
    """Drop every cached token (a new process starts like this)."""
    with _guard:
        _tokens.clear()


class TokenManager:
    """Hands out the token cached under `key`, calling `fetch` when it is missing or due."""

    def __init__(self, key: str, fetch: Callable[[], Token], *, margin_s: float | None = None) -> None:
        self.key = key
        self.fetch = fetch
        self.margin_s = margin_s

    def __repr__(self) -> str:
        return f"TokenManager({self.key!r})"

    def _fresh(self, token: Token | None) -> bool:
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
        if not isinstance(token, Token):
            raise TypeError(f"{self.key}: the token fetcher must return a Token")
        _tokens[self.key] = token
        # A token is a credential too: the process's logs and stores redact it from now on.
        remember(f"token:{self.key}", [token.value])
        return token.value


def client_credentials(
    http: ProviderClient, path: str, client_id: str, client_secret: str, *, scope: str | None = None, **extra: str
) -> Callable[[], Token]:
    """A fetcher for the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) at `path` of `http`."""

    def fetch() -> Token:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret, **extra}
        if scope:
            form["scope"] = scope
        # Asking for a token twice only yields two tokens: safe to retry.
        response = http.request("POST", path, data=form, idempotent=True)
        try:
            return Token.from_oauth(loads(response.content))
        except ValueError as exc:  # ProviderDataError included
            raise ProviderRejected(http.provider, f"unusable token answer ({exc})", response.status_code) from None

    return fetch
