"""The one HTTP client every service uses: timeouts, safe retries, a breaker, typed errors and a call log."""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from datetime import datetime
from typing import Any, Callable, Iterable

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError, ResponseError
from urllib3.exceptions import TimeoutError as UrllibTimeout
from urllib3.util.retry import Retry

import hi

from . import breakers
from .calllog import _CallLog, redact_url
from .provider_data import MAX_DEPTH
from .redaction import redact_text

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)
EXCERPT = 300
#: RFC 9110 §9.2.2 idempotent methods: the only ones retried unless a call says it is safe.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Answers that mean "try again": rate limited, or a gateway in front of the provider failed.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class ProviderError(Exception):
    """A provider call failed; carries the provider, HTTP status and a response excerpt."""

    def __init__(self, provider: str, message: str, status: int | None = None, excerpt: str = "") -> None:
        self.provider = provider
        self.status = status
        self.excerpt = excerpt[:EXCERPT]
        detail = f" (HTTP {status})" if status else ""
        super().__init__(f"{provider}: {message}{detail}" + (f": {self.excerpt}" if self.excerpt else ""))


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered with a server error."""


class ProviderTimeout(ProviderUnavailable):
    """The provider did not answer in time."""


class BreakerOpen(ProviderUnavailable):
    """The integration's circuit breaker is open, so no call was made; `retry_at` is when it half-opens."""

    def __init__(
        self, provider: str, message: str, status: int | None = None, excerpt: str = "", retry_at: datetime | None = None
    ):
        super().__init__(provider, message, status, excerpt)
        self.retry_at = retry_at


class ProviderRateLimited(ProviderError):
    """The provider asked us to slow down (HTTP 429); `retry_after` in seconds when given."""

    def __init__(self, provider: str, message: str, status: int | None = 429, excerpt: str = "", retry_after: float | None = None):
        super().__init__(provider, message, status, excerpt)
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (HTTP 401 or 403)."""


class ProviderRejected(ProviderError):
    """The provider refused the request itself (another 4xx): retrying will not help."""


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class ProviderRetry(Retry):
    """urllib3's Retry, which also gives up on a Retry-After beyond the cap and keeps its attempts on errors."""

    #: time.monotonic() when the attempt after this retry's wait began (to time that attempt alone).
    resumed_at: float | None = None

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None  # a malformed Retry-After falls back to the exponential backoff

    def increment(  # type: ignore[override]
        self, method: Any = None, url: Any = None, response: Any = None, error: Any = None, _pool: Any = None, _stacktrace: Any = None
    ) -> "ProviderRetry":
        if response is not None and error is None and self._asks_too_long(response):
            # Waiting longer than the cap would hold a worker: the answer goes back now (raise_on_status=False),
            # and ProviderRateLimited.retry_after tells the caller when to come back.
            raise MaxRetryError(_pool, url or "", ResponseError("Retry-After beyond retry_after_max"))
        try:
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except Exception as exc:
            # requests wraps this error: keep the attempts made so far on it, as a response keeps them in raw.retries.
            exc.retries = self  # type: ignore[attr-defined]
            raise

    def _asks_too_long(self, response: Any) -> bool:
        if not self.respect_retry_after_header or not response.headers.get("Retry-After"):
            return False
        asked = self.new(retry_after_max=sys.maxsize).get_retry_after(response)
        return asked is not None and asked > self.retry_after_max

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        self.resumed_at = time.monotonic()


def default_retry(**overrides: Any) -> ProviderRetry:
    """The retry policy from settings: idempotent methods, connection errors and RETRY_STATUSES, backoff with jitter.

    Retries inside a call only ride out blips (a restarting load balancer); longer outages are the
    directive's retries and the breaker's business, so the defaults stay short: ~1 s over three attempts.
    """
    params: dict[str, Any] = dict(
        total=int(_setting("HI_HTTP_RETRIES", 2)),
        # A read error (timeout, dropped answer) means the provider got the request and may still be working
        # on it: not retried, so a call never waits much longer than its read timeout.
        read=0,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=float(_setting("HI_HTTP_BACKOFF_FACTOR", 0.3)),
        backoff_jitter=float(_setting("HI_HTTP_BACKOFF_JITTER", 0.3)),
        backoff_max=float(_setting("HI_HTTP_BACKOFF_MAX_S", 10)),
        retry_after_max=float(_setting("HI_HTTP_RETRY_AFTER_MAX_S", 5)),
        respect_retry_after_header=True,
        # Exhausted retries hand back the last answer, so the caller sees its status and body.
        raise_on_status=False,
    )
    params.update(overrides)
    return ProviderRetry(**params)


def _retry_after(response: requests.Response) -> float | None:
    """The Retry-After header in seconds (a number or an HTTP date), when present and valid."""
    value = response.headers.get("Retry-After", "")
    try:
        return float(Retry(retry_after_max=sys.maxsize).parse_retry_after(value)) if value else None
    except InvalidHeader:
        return None


def _credentials_in(headers: dict[str, str]) -> list[str]:
    """Secret values carried by headers (Authorization, API keys, tokens)."""
    found = []
    for name, value in headers.items():
        if value and any(word in name.lower() for word in ("auth", "key", "token", "secret")):
            found += [value, value.partition(" ")[2]]
    return found


def _error_class_for(status: int | None) -> type[ProviderError] | None:
    """The error an answer with this status raises (None for 2xx)."""
    if status is None or 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return ProviderRejected
    if status in (401, 403):
        return ProviderAuthError
    if status == 429:
        return ProviderRateLimited
    return ProviderUnavailable if status >= 500 else ProviderRejected


def _is_timeout(error: BaseException | None) -> bool:
    """Whether a requests or urllib3 error is a timeout (a refused connection is not)."""
    if isinstance(error, requests.Timeout):
        return True
    inner = error.args[0] if isinstance(error, requests.RequestException) and error.args else error
    reason = getattr(inner, "reason", inner)
    return isinstance(reason, UrllibTimeout) and not isinstance(reason, NewConnectionError)


class ProviderClient:
    """A requests.Session bound to one provider's base URL (and integration), raising typed errors."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        integration: Any = None,
        headers: dict[str, str] | None = None,
        timeout: Any = DEFAULT_TIMEOUT,
        token_manager: Any = None,
        secrets: Iterable[str] = (),
        retry: Retry | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.integration = integration
        # Connect and read timeouts are always set: a provider that never answers must not hang a worker.
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self.token_manager = token_manager
        self.secrets = [s for s in (*secrets, *_credentials_in(headers or {})) if s]
        self.retry = retry if retry is not None else default_retry()
        self.session = self._new_session(self.retry, self.base_url)
        self.session.headers["User-Agent"] = f"hi/{hi.__version__}"
        self.session.headers.update(headers or {})
        self._any_method_session: requests.Session | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _new_session(retry: Retry, base_url: str) -> requests.Session:
        """A session with the Retry mounted; proxy and CA settings read from the environment once."""
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        # requests re-reads the whole environment for proxies on every call (trust_env); read it once.
        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        session.trust_env = False
        return session

    def _session_for(self, method: str, idempotent: bool) -> requests.Session:
        """The session whose Retry fits the call: idempotent methods, or any method the caller vouches for."""
        if not idempotent or method in IDEMPOTENT_METHODS:
            return self.session
        with self._lock:
            if self._any_method_session is None:
                session = self._new_session(self.retry.new(allowed_methods=None), self.base_url)
                session.headers, session.cookies = self.session.headers, self.session.cookies
                self._any_method_session = session
            return self._any_method_session

    @property
    def _where(self) -> str:
        return redact_url(self.base_url, self.secrets)

    def request(
        self, method: str, path: str, *, timeout: Any = None, idempotent: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send a request; return the 2xx response or raise a ProviderError subclass.

        `idempotent=True` lets a POST or PATCH be retried like a GET (the provider dedupes it, e.g. by a key).
        """
        method = method.upper()
        url = f"{self.base_url}/{path.lstrip('/')}"
        session = self._session_for(method, idempotent)

        def exchange() -> requests.Response:
            return self._exchange(session, method, url, timeout or self.timeout, kwargs)

        if self.integration is None:
            return exchange()
        return breakers.guard(self.integration, self.provider, exchange)

    def _exchange(self, session: requests.Session, method: str, url: str, timeout: Any, kwargs: dict) -> requests.Response:
        """One call: the token, the request (urllib3 retrying), one re-send with a new token after a 401."""
        log = _CallLog(self.integration, method)
        send = functools.partial(session.request, method, url, timeout=timeout, allow_redirects=False)
        token = self.token_manager.get() if self.token_manager is not None else None
        response = self._send(send, kwargs, token, log)
        if response.status_code == 401 and self.token_manager is not None:
            # The token was revoked or expired early (RFC 6750 §3.1 invalid_token): one new token, one more try.
            token = self.token_manager.refresh(stale=token)
            response = self._send(send, kwargs, token, log)
        return self._check(response, self._secrets(token))

    def _secrets(self, token: str | None) -> list[str]:
        return [*self.secrets, token] if token else self.secrets

    def _send(self, send: Callable[..., requests.Response], kwargs: dict, token: str | None, log: _CallLog) -> requests.Response:
        """Send once through urllib3's retries; log every attempt; turn transport errors into typed ones."""
        if token is not None:
            kwargs = {**kwargs, "headers": {**(kwargs.get("headers") or {}), "Authorization": f"Bearer {token}"}}
        secrets = self._secrets(token)
        log.begin()
        try:
            response = send(**kwargs)
        except requests.RequestException as exc:
            error: ProviderError
            if _is_timeout(exc):
                error = ProviderTimeout(self.provider, f"no answer from {self._where} in time")
            else:
                error = ProviderUnavailable(self.provider, f"cannot reach {self._where} ({type(exc).__name__})")
            inner = exc.args[0] if exc.args else None
            sent_url = getattr(exc.request, "url", None) or send.args[1]
            log.record(sent_url, getattr(inner, "retries", None), None, type(error).__name__, secrets)
            raise error from None
        kind = _error_class_for(response.status_code)
        retries = response.raw.retries if response.raw is not None else None
        log.record(response.url or send.args[1], retries, response.status_code, kind.__name__ if kind else "", secrets)
        return response

    def _check(self, response: requests.Response, secrets: list[str]) -> requests.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        # Providers echo what they got: keep secrets out of the excerpt (and so out of messages and logs).
        excerpt = redact_text(response.text[: EXCERPT * 2], secrets)
        if 300 <= status < 400:
            # Redirects are never followed: a provider URL that moved is a configuration problem.
            location = redact_url(response.headers.get("Location", "?"), secrets)
            raise ProviderRejected(self.provider, f"unexpected redirect to {location}", status, excerpt)
        if status in (401, 403):
            raise ProviderAuthError(self.provider, "credentials refused", status, excerpt)
        if status == 429:
            raise ProviderRateLimited(self.provider, "rate limited", status, excerpt, _retry_after(response))
        if status >= 500:
            error = ProviderUnavailable(self.provider, "server error", status, excerpt)
            # A 503 may say when to come back (RFC 9110 §10.2.3): directives wait at least that long.
            error.retry_after = _retry_after(response)
            raise error
        raise ProviderRejected(self.provider, "request refused", status, excerpt)

    def get_json(self, path: str, *, max_depth: int | None = MAX_DEPTH, **kwargs: Any) -> Any:
        """GET a JSON document (bounded nesting, no NaN: provider_data.loads; max_depth=None for a batch's envelope)."""
        from .provider_data import ProviderDataError, loads

        response = self.request("GET", path, **kwargs)
        try:
            return loads(response.content, max_depth=max_depth)
        except ProviderDataError as exc:
            excerpt = redact_text(response.text[: EXCERPT * 2], self.secrets)
            raise ProviderRejected(self.provider, f"answer is not usable JSON ({exc})", response.status_code, excerpt) from None


_clients: dict[tuple, ProviderClient] = {}
_clients_lock = threading.Lock()
MAX_CACHED_CLIENTS = 512


def forget_clients() -> None:
    """Drop every kept client (after changing the retry settings, or in tests)."""
    with _clients_lock:
        _clients.clear()


def client_for_integration(integration: Any, provider: str, base_url: str, **options: Any) -> ProviderClient:
    """The integration's client, kept for the process: one requests.Session (and its kept-alive
    connections) per integration and configuration, instead of a new one per call."""
    headers = options.get("headers") or {}
    key = (
        integration.pk, provider, base_url, tuple(sorted(headers.items())), repr(options.get("timeout")),
        tuple(options.get("secrets", ())), id(options.get("token_manager")),
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) >= MAX_CACHED_CLIENTS:
                _clients.clear()  # configurations changed many times: start over rather than grow
            client = _clients[key] = ProviderClient(provider, base_url, integration=integration, **options)
    return client
