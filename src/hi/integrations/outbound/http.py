"""The one HTTP client every service uses: guarded connections, a deadline, safe retries, a breaker, typed errors and a call log."""

from __future__ import annotations

import functools
import logging
import os
import threading
from typing import Any, Callable, Iterable

import requests
from urllib3.util.retry import Retry

import hi

from ..core.errors import (
    EXCERPT,
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnsafeDestination,
    UnsafeURL,
    bodies_withheld,
    error_class_for,
)
from ..core.provider_data import MAX_DEPTH, loads
from ..core.redaction import redact_known, redact_text
from . import breakers, transport
from .calllog import CallLog, redact_url
from .error_readings import ErrorReader, error_from, read_safely
from .retries import IDEMPOTENT_METHODS, default_retry, retry_after_seconds, setting

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)
#: What a provider call answers (a requests.Response), named for services that annotate with it.
ProviderResponse = requests.Response
#: The most of a 401/403 answer a client may keep as ProviderAuthError.refusal.
MAX_REFUSAL = 200
#: How much of a refusal is redacted before the cut (a secret echoed in it is whole inside this window).
REFUSAL_WINDOW = 65536
#: The most one call may take in all when HI_HTTP_DEADLINE_S is not set.
DEFAULT_DEADLINE_S = 30.0


def _credentials_in(headers: dict[str, str]) -> list[str]:
    """Secret values carried by headers (Authorization, API keys, tokens)."""
    found = []
    for name, value in headers.items():
        if value and any(word in name.lower() for word in ("auth", "key", "token", "secret")):
            found += [value, value.partition(" ")[2]]
    return found


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
        deadline_s: float | None = None,
        refusal_chars: int = 0,
        read_error: ErrorReader | None = None,
    ) -> None:
        """One provider's client: its base URL, headers, secrets to redact, timeouts, retries, breaker and call log."""
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.integration = integration
        # Connect and read timeouts are always set: a provider that never answers must not hang a worker.
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self.token_manager = token_manager
        self.secrets = [s for s in (*secrets, *_credentials_in(headers or {})) if s]
        self.retry = retry if retry is not None else default_retry()
        #: The total time one call may take (None: HI_HTTP_DEADLINE_S when the call is made).
        self.deadline_s = deadline_s
        #: How much of a 401/403 answer ProviderAuthError.refusal keeps, even during set-up (0: nothing).
        self.refusal_chars = min(max(0, refusal_chars), MAX_REFUSAL)
        #: The provider's reading of its error answers, when its body says more than the status (error_readings.py).
        self.read_error = read_error
        self.session = self._new_session(self.retry, self.base_url)
        self.session.headers["User-Agent"] = f"hi/{hi.__version__}"
        self.session.headers.update(headers or {})
        self._any_method_session: requests.Session | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _new_session(retry: Retry, base_url: str) -> requests.Session:
        """A session with the Retry mounted; proxy and CA settings read from the environment once."""
        session = requests.Session()
        # Every connection is checked by the SSRF guard and pinned to the checked address, and watched by the
        # call's deadline (transport.py).
        adapter = transport.GuardedAdapter(max_retries=retry)
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
        """The base URL as logs may show it (secrets redacted)."""
        return redact_url(self.base_url, self.secrets)

    def request(
        self,
        method: str,
        path: str,
        *,
        timeout: Any = None,
        idempotent: bool = False,
        deadline_s: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request; return the 2xx response or raise a ProviderError subclass."""
        # `idempotent=True` lets a POST or PATCH be retried like a GET (the provider dedupes it, e.g. by a key). The
        # whole call (token, connections, retries, the answer read to its end) takes at most `deadline_s` (default:
        # the client's, else HI_HTTP_DEADLINE_S), or ProviderTimeout.
        method = method.upper()
        url = f"{self.base_url}/{path.lstrip('/')}"
        session = self._session_for(method, idempotent)
        limit = next(s for s in (deadline_s, self.deadline_s, setting("HI_HTTP_DEADLINE_S", DEFAULT_DEADLINE_S)) if s is not None)

        def exchange() -> requests.Response:
            """One attempt-set of the request, bounded by the call's deadline."""
            with transport.deadline(float(limit)):
                return self._exchange(session, method, url, timeout or self.timeout, kwargs)

        if self.integration is None:
            return exchange()
        return breakers.guard(self.integration, self.provider, exchange)

    def _exchange(self, session: requests.Session, method: str, url: str, timeout: Any, kwargs: dict) -> requests.Response:
        """One call: the token, the request (urllib3 retrying), one re-send with a new token after a 401."""
        log = CallLog(self.integration, method)
        send = functools.partial(session.request, method, url, timeout=timeout, allow_redirects=False)
        token = self.token_manager.get() if self.token_manager is not None else None
        response = self._send(send, kwargs, token, log)
        if response.status_code == 401 and self.token_manager is not None:
            # The token was revoked or expired early (RFC 6750 §3.1 invalid_token): one new token, one more try.
            token = self.token_manager.refresh(stale=token)
            response = self._send(send, kwargs, token, log)
        return self._check(response, self._secrets(token))

    def _secrets(self, token: str | None) -> list[str]:
        """The secrets to redact from this call's records: the client's, and the call's token."""
        return [*self.secrets, token] if token else self.secrets

    def _send(self, send: Callable[..., requests.Response], kwargs: dict, token: str | None, log: CallLog) -> requests.Response:
        """Send once through urllib3's retries; log every attempt; turn transport errors into typed ones."""
        if token is not None:
            kwargs = {**kwargs, "headers": {**(kwargs.get("headers") or {}), "Authorization": f"Bearer {token}"}}
        secrets = self._secrets(token)
        bound = transport.current_deadline()
        if bound is not None:
            bound.sent = False
        log.begin()
        try:
            response = send(**kwargs)
        except UnsafeURL as exc:
            refused = UnsafeDestination(self.provider, f"refused to call {self._where}: {exc}")
            log.record(send.args[1], None, None, type(refused).__name__, secrets)
            raise refused from None
        except requests.RequestException as exc:
            error: ProviderError
            if bound is not None and bound.passed:
                error = ProviderTimeout(self.provider, f"no complete answer from {self._where} within {bound.seconds:g} s")
            elif transport.is_timeout(exc):
                error = ProviderTimeout(self.provider, f"no answer from {self._where} in time")
            else:
                error = ProviderUnavailable(self.provider, f"cannot reach {self._where} ({type(exc).__name__})")
            inner = exc.args[0] if exc.args else None
            sent_url = getattr(exc.request, "url", None) or send.args[1]
            log.record(sent_url, getattr(inner, "retries", None), None, type(error).__name__, secrets)
            error.request_sent = bool(bound is not None and bound.sent)
            raise error from None
        retries = response.raw.retries if response.raw is not None else None
        if bound is not None and bound.expired:
            # The watchdog shut the connection while the answer was read: what arrived may be cut short.
            late = ProviderTimeout(self.provider, f"no complete answer from {self._where} within {bound.seconds:g} s")
            late.request_sent = True
            log.record(response.url or send.args[1], retries, response.status_code, type(late).__name__, secrets)
            raise late
        reading = response.hi_error_reading = read_safely(self.read_error, response)  # type: ignore[attr-defined]
        kind = reading.error if reading is not None else error_class_for(response.status_code)
        log.record(response.url or send.args[1], retries, response.status_code, kind.__name__ if kind else "", secrets)
        return response

    def excerpt(self, response: requests.Response, secrets: Iterable[str] | None = None) -> str:
        """The start of an answer for an error, the client's secrets redacted in any encoding (providers echo what they got)."""
        # ProviderError cuts it after redacting.
        return redact_text(response.text[: EXCERPT * 4], self.secrets if secrets is None else secrets)

    def refusal(self, response: requests.Response, secrets: Iterable[str]) -> str:
        """The start of a 401/403 answer as one line, secrets redacted in any encoding (then cut), when the client keeps one."""
        # Only with `refusal_chars`. Set-up withholds provider bodies because the URL is not trusted yet; a client
        # opts in to this short text when the one who refuses is the operator's own receiver, which says in it which
        # of its checks failed (a signature, its own header authentication). It is only ever a refusal, never a 2xx or
        # 5xx body, and only from a server the connection guard let hi reach.
        if not self.refusal_chars:
            return ""
        # Redacted over a window far longer than what is kept, so a secret is whole wherever the cut falls.
        text = redact_known(redact_text(response.text[:REFUSAL_WINDOW], secrets))
        line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
        return line if len(line) <= self.refusal_chars else line[: self.refusal_chars - 1].rstrip() + "…"

    def _check(self, response: requests.Response, secrets: list[str]) -> requests.Response:
        """The 2xx response, or the ProviderError its status and body call for."""
        status = response.status_code
        if 200 <= status < 300:
            return response
        excerpt = self.excerpt(response, secrets)
        reading = getattr(response, "hi_error_reading", None)
        if reading is not None:
            raise error_from(
                reading, self.provider, response, excerpt, secrets, bodies_withheld(),
                lambda: self.refusal(response, secrets), retry_after_seconds(response),
            )
        if 300 <= status < 400:
            # Redirects are never followed: a provider URL that moved is a configuration problem.
            location = "" if bodies_withheld() else " to " + redact_url(response.headers.get("Location", "?"), secrets)
            raise ProviderRejected(self.provider, f"unexpected redirect{location}", status, excerpt)
        if status in (401, 403):
            raise ProviderAuthError(self.provider, "credentials refused", status, excerpt, self.refusal(response, secrets))
        if status == 429:
            raise ProviderRateLimited(self.provider, "rate limited", status, excerpt, retry_after_seconds(response))
        if status >= 500:
            error = ProviderUnavailable(self.provider, "server error", status, excerpt)
            # A 503 may say when to come back (RFC 9110 §10.2.3): directives wait at least that long.
            error.retry_after = retry_after_seconds(response)
            raise error
        raise ProviderRejected(self.provider, "request refused", status, excerpt)

    def get_json(self, path: str, *, max_depth: int | None = MAX_DEPTH, **kwargs: Any) -> Any:
        """GET a JSON document (bounded nesting, no NaN: provider_data.loads; max_depth=None for a batch's envelope)."""
        return self.request_json("GET", path, max_depth=max_depth, **kwargs)

    def request_json(self, method: str, path: str, *, max_depth: int | None = MAX_DEPTH, **kwargs: Any) -> Any:
        """Send any request (request()'s options) and read its JSON answer as get_json() does, never with requests' .json()."""
        response = self.request(method, path, **kwargs)
        try:
            return loads(response.content, max_depth=max_depth)
        except ProviderDataError as exc:
            raise ProviderRejected(
                self.provider, f"answer is not usable JSON ({exc})", response.status_code, self.excerpt(response)) from None


_clients: dict[tuple, ProviderClient] = {}
_clients_lock = threading.Lock()
MAX_CACHED_CLIENTS = 512


def forget_clients() -> None:
    """Drop every kept client (after changing the retry settings, or in tests)."""
    with _clients_lock:
        _clients.clear()


def client_for_integration(integration: Any, provider: str, base_url: str, **options: Any) -> ProviderClient:
    """The integration's client, kept for the process: one requests.Session per integration and configuration."""
    # Its kept-alive connections serve every call instead of a new session each time. With no integration (a
    # connection test: nothing is saved yet), a bare client, kept nowhere, with no breaker and no call log.
    if integration is None:
        return ProviderClient(provider, base_url, **options)
    headers = options.get("headers") or {}
    key = (
        integration.pk, provider, base_url, tuple(sorted(headers.items())), repr(options.get("timeout")),
        tuple(options.get("secrets", ())), id(options.get("token_manager")), options.get("deadline_s"),
        options.get("refusal_chars", 0), id(options.get("read_error")),
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) >= MAX_CACHED_CLIENTS:
                _clients.clear()  # configurations changed many times: start over rather than grow
            client = _clients[key] = ProviderClient(provider, base_url, integration=integration, **options)
    return client
