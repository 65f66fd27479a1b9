"""The retry policy inside one provider call: which answers and errors are retried, how long to wait, when to stop."""

from __future__ import annotations

import sys
import time
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from . import transport

#: RFC 9110 §9.2.2 idempotent methods: the only ones retried unless a call says it is safe.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Answers that mean "try again": rate limited, or a gateway in front of the provider failed.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def setting(name: str, default: Any) -> Any:
    """A setting of the HTTP client, or its default."""
    return getattr(settings, name, default)


class ProviderRetry(Retry):
    """urllib3's Retry, also giving up on a Retry-After beyond the cap or past the call's deadline."""
    # It keeps its attempts on errors.

    #: time.monotonic() when the attempt after this retry's wait began (to time that attempt alone).
    resumed_at: float | None = None

    def get_retry_after(self, response: Any) -> float | None:
        """Retry-After in seconds, or None when the header is missing or malformed."""
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None  # a malformed Retry-After falls back to the exponential backoff

    def increment(  # type: ignore[override]
        self, method: Any = None, url: Any = None, response: Any = None, error: Any = None, _pool: Any = None, _stacktrace: Any = None
    ) -> "ProviderRetry":
        """The next retry, or MaxRetryError when the provider asks to wait longer than the cap."""
        if response is not None and error is None and self._asks_too_long(response):
            # Waiting longer than the cap would hold a worker: the answer goes back now (raise_on_status=False),
            # and ProviderRateLimited.retry_after tells the caller when to come back.
            raise MaxRetryError(_pool, url or "", ResponseError("Retry-After beyond retry_after_max"))
        try:
            new = super().increment(method, url, response, error, _pool, _stacktrace)
            bound = transport.current_deadline()
            if bound is not None and new._next_wait(response) >= bound.remaining():
                # Another try could not finish in time: the last answer (or error) goes back now.
                raise MaxRetryError(_pool, url or "", error or ResponseError("no time left before the call's deadline"))
            return new
        except Exception as exc:
            # requests wraps this error: keep the attempts made so far on it, as a response keeps them in raw.retries.
            exc.retries = self  # type: ignore[attr-defined]
            raise

    def _next_wait(self, response: Any) -> float:
        """How long this retry will sleep before its attempt: Retry-After when asked, else the backoff."""
        if response is not None and self.respect_retry_after_header:
            asked = self.get_retry_after(response)
            if asked is not None:
                return asked
        return self.get_backoff_time()

    def _asks_too_long(self, response: Any) -> bool:
        """Whether the answer's Retry-After asks for more than retry_after_max."""
        if not self.respect_retry_after_header or not response.headers.get("Retry-After"):
            return False
        asked = self.new(retry_after_max=sys.maxsize).get_retry_after(response)
        return asked is not None and asked > self.retry_after_max

    def sleep(self, response: Any = None) -> None:
        """Wait as urllib3 does, then note when the wait ended."""
        super().sleep(response)
        self.resumed_at = time.monotonic()


def default_retry(**overrides: Any) -> ProviderRetry:
    """The retry policy from settings: idempotent methods, connection errors and RETRY_STATUSES, backoff with jitter."""
    # Retries inside a call only ride out blips (a restarting load balancer); longer outages are the
    # directive's retries and the breaker's business, so the defaults stay short: ~1 s over three attempts.
    params: dict[str, Any] = dict(
        total=int(setting("HI_HTTP_RETRIES", 2)),
        # A read error (timeout, dropped answer) means the provider got the request and may still be working
        # on it: not retried, so a call never waits much longer than its read timeout.
        read=0,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=float(setting("HI_HTTP_BACKOFF_FACTOR", 0.3)),
        backoff_jitter=float(setting("HI_HTTP_BACKOFF_JITTER", 0.3)),
        backoff_max=float(setting("HI_HTTP_BACKOFF_MAX_S", 10)),
        retry_after_max=float(setting("HI_HTTP_RETRY_AFTER_MAX_S", 5)),
        respect_retry_after_header=True,
        # Exhausted retries hand back the last answer, so the caller sees its status and body.
        raise_on_status=False,
    )
    params.update(overrides)
    return ProviderRetry(**params)


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds (a number or an HTTP date), when present and valid."""
    value = response.headers.get("Retry-After", "")
    try:
        return float(Retry(retry_after_max=sys.maxsize).parse_retry_after(value)) if value else None
    except InvalidHeader:
        return None
