"""The one websocket listener base: keeps a provider's push channel connected from inside the worker."""
from __future__ import annotations

import logging
import random
import socket
import threading
import time
import traceback
from typing import Callable
from urllib.parse import urlsplit

from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

import hi

from ..config.store import secret_values
from ..core.errors import ItemInvalid, ListenerAuthFailed, ProviderDataError
from ..core.redaction import redact_text
from ..models import Integration, ListenerState
from ..outbound import transport

logger = logging.getLogger(__name__)
#: The open connection a listener's hooks are handed (websockets' sync client), for services' type hints: a service
#: never imports the websocket library itself.
WebsocketConnection = ClientConnection

#: How much of an error message ListenerState.last_error keeps.
ERROR_LIMIT = 500
#: Handshake answers that mean the credentials were refused, not that the provider is down.
AUTH_STATUSES = (401, 403)
# 2**32 times any sane initial delay is past any cap; a bigger exponent would overflow float().
_MAX_EXPONENT = 32


def backoff_delay(attempt: int, initial_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """Capped exponential backoff with full jitter: uniform in [0, min(max_s, initial_s * 2**attempt)]."""
    # Full jitter spreads the reconnects of many listeners that lost the same provider at once
    # (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
    ceiling = min(max_s, initial_s * 2 ** min(max(attempt, 0), _MAX_EXPONENT))
    return ceiling * rand()


def state_of(integration: Integration, name: str) -> ListenerState | None:
    """The recorded connection state of one listener of an integration, for the console."""
    return ListenerState.objects.filter(integration=integration, name=name).first()


class WebsocketListener:
    """Base class of a provider's push listener: connect, authenticate, subscribe, receive, reconnect."""
    # A service subclasses it, sets `name` and overrides `url`, `authenticate`, `subscribe` and
    # `handle` (and `headers` when the handshake carries credentials). The worker runs it in a
    # thread of its own, and only while it holds the integration's listener lease: this class
    # takes no lease, so two callers of `run` for one integration would both connect.
    # Stop is honoured within `recv_poll_s` while connected or backing off, within `open_timeout_s`
    # while connecting, and closing waits at most `close_timeout_s` for the provider's answer.
    # A dead peer is found within `ping_interval_s + ping_timeout_s + close_timeout_s`.
    # Backoff policy: capped exponential with full jitter, counted per consecutive failure; the count
    # resets only after a connection stayed up `stable_after_s` (not merely after a successful
    # subscribe), so that a provider which accepts the subscription and drops at once is not
    # reconnected to at the initial delay forever. A refused authentication waits `backoff_max_s`.

    #: Distinguishes the listeners of one integration (ListenerState.name).
    name: str = "events"
    #: Keepalive: a ping every ping_interval_s, and the connection is failed when the pong takes
    #: longer than ping_timeout_s (websockets does both in its keepalive thread).
    ping_interval_s: float = 20
    ping_timeout_s: float = 20
    backoff_initial_s: float = 1
    backoff_max_s: float = 60
    #: TCP connect plus opening handshake.
    open_timeout_s: float = 10
    #: How long a closing handshake may take before the socket is closed anyway.
    close_timeout_s: float = 2
    #: How long one recv waits before looking at the stop event again.
    recv_poll_s: float = 0.5
    #: A connection that stayed up this long resets the backoff to backoff_initial_s.
    stable_after_s: float = 60

    def __init__(self, integration: Integration, *, worker_id: str = "", secrets: list[str] | None = None) -> None:
        """A listener for `integration`, run by `worker_id`, redacting `secrets` (None: the stored ones)."""
        self.integration = integration
        #: Recorded in ListenerState.worker: who holds the lease and runs this listener.
        self.worker_id = worker_id
        #: Values to strip from recorded errors and logs; None loads the integration's stored secrets in run().
        self.secrets = list(secrets) if secrets is not None else None
        #: Disconnects and failed attempts since run() started.
        self.reconnects = 0
        #: The last backoff delay chosen, in seconds.
        self.delay_s = 0.0
        #: Messages whose handle() raised since run() started.
        self.handle_errors = 0
        self._connected_at: float | None = None

    # Hooks a service overrides.

    def url(self) -> str:
        """The ws:// or wss:// URL of the provider's push endpoint."""
        raise NotImplementedError(f"{type(self).__name__} must implement url()")

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers of the opening handshake (e.g. Authorization)."""
        return {}

    def authenticate(self, ws: ClientConnection) -> None:
        """Send and receive the provider's auth messages; raise ListenerAuthFailed on refusal."""
        # Receive with a timeout (`ws.recv(timeout=self.open_timeout_s)`) so that a silent provider
        # cannot hold the listener.

    def subscribe(self, ws: ClientConnection) -> None:
        """Ask the provider for the events this listener handles."""

    def handle(self, message: str | bytes) -> None:
        """Process one message; an exception is logged and the connection stays up."""
        raise NotImplementedError(f"{type(self).__name__} must implement handle()")

    # The loop.

    @property
    def label(self) -> str:
        """How logs name this listener."""
        return f"{self.name} listener of integration {self.integration.pk}"

    def run(self, stop: threading.Event) -> None:
        """Keep the connection up until `stop` is set; only the holder of the listener lease may call it."""
        close_old_connections()
        if self.secrets is None:
            self.secrets = self._stored_secrets()
        self.reconnects = 0
        attempt = 0
        try:
            while not stop.is_set():
                self._record(ListenerState.State.CONNECTING)
                started = time.monotonic()
                self._connected_at = None
                try:
                    self._session(stop)
                except Exception as exc:
                    if stop.is_set():
                        break
                    if self._connected_at is not None and time.monotonic() - self._connected_at >= self.stable_after_s:
                        attempt = 0
                    self._back_off(exc, attempt, stop, time.monotonic() - started)
                    attempt += 1
        finally:
            self._record(ListenerState.State.STOPPED)
            close_old_connections()

    def _session(self, stop: threading.Event) -> None:
        """One connection, from the handshake until it breaks (raises) or `stop` is set (returns)."""
        url = self.url()
        with connect(
            url,
            sock=self._checked_socket(url),
            additional_headers=self.headers() or None,
            user_agent_header=f"hi/{hi.__version__}",
            open_timeout=self.open_timeout_s,
            ping_interval=self.ping_interval_s,
            ping_timeout=self.ping_timeout_s,
            close_timeout=self.close_timeout_s,
        ) as ws:
            self.authenticate(ws)
            self.subscribe(ws)
            self._connected_at = time.monotonic()
            self._record(ListenerState.State.CONNECTED, error="")
            logger.info("%s: connected", self.label)
            while not stop.is_set():
                try:
                    message = ws.recv(timeout=self.recv_poll_s)
                except TimeoutError:
                    continue
                self._dispatch(message)
        # Leaving the block closed the connection (closing handshake, bounded by close_timeout_s).

    def _checked_socket(self, url: str) -> socket.socket:
        """A socket to an address the outbound guard checked (resolved once)."""
        # The provider names the URL, so it is no more trusted than an operator's: no loopback, internal or
        # metadata address outside the allow-list.
        parts = urlsplit(url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        port = parts.port or (443 if scheme == "https" else 80)
        return transport.connect_checked(scheme, parts.hostname or "", port, self.open_timeout_s)

    def _dispatch(self, message: str | bytes) -> None:
        """Hand one message to handle(); a failure is logged (redacted, without locals) and skipped."""
        try:
            self.handle(message)
        except (ItemInvalid, ProviderDataError) as exc:
            # A message the provider got wrong (expected bad data): one line, no place in hi's code.
            self.handle_errors += 1
            logger.warning("%s: skipped a message hi cannot read: %s", self.label, self._redact(str(exc))[:500])
        except Exception as exc:
            self.handle_errors += 1
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
            logger.error("%s: handling a message failed%s: %s", self.label, where, self._redact(f"{type(exc).__name__}: {exc}"))

    def _back_off(self, exc: Exception, attempt: int, stop: threading.Event, elapsed_s: float) -> None:
        """Record why the connection ended, then wait (interruptibly) before the next attempt."""
        if self.is_auth_failure(exc):
            self.delay_s = float(self.backoff_max_s)
        else:
            self.delay_s = backoff_delay(attempt, self.backoff_initial_s, self.backoff_max_s)
        self.reconnects += 1
        error = self.describe(exc)
        self._record(ListenerState.State.BACKOFF, error=error)
        logger.warning("%s: %s (after %.1f s); reconnecting in %.1f s", self.label, error, elapsed_s, self.delay_s)
        stop.wait(self.delay_s)

    @staticmethod
    def is_auth_failure(exc: Exception) -> bool:
        """Whether a failure means refused credentials (retrying soon would not help)."""
        if isinstance(exc, ListenerAuthFailed):
            return True
        return isinstance(exc, InvalidStatus) and exc.response.status_code in AUTH_STATUSES

    def describe(self, exc: Exception) -> str:
        """An operator-readable, redacted, bounded reason for a lost or failed connection."""
        if isinstance(exc, ListenerAuthFailed):
            text = f"Authentication refused: {exc}"
        elif isinstance(exc, InvalidStatus):
            text = f"The provider refused the connection (HTTP {exc.response.status_code})"
        elif isinstance(exc, ConnectionClosed):
            text = f"Connection lost: {exc}"
        elif isinstance(exc, TimeoutError):
            text = f"No answer in time: {exc}"
        elif isinstance(exc, OSError):
            text = f"Cannot reach the provider: {exc.strerror or exc}"
        else:
            text = f"{type(exc).__name__}: {exc}"
        # Redact before cutting: a cut could leave a secret's prefix that no longer matches.
        return self._redact(text)[:ERROR_LIMIT]

    def _redact(self, text: str) -> str:
        """The text with this listener's secrets redacted."""
        return redact_text(text, self.secrets or [])

    def _stored_secrets(self) -> list[str]:
        """The integration's secret attribute values."""
        try:
            return secret_values(self.integration)
        except DatabaseError:
            logger.warning("%s: could not load secrets for redaction", self.label)
            return []

    def _record(self, state: str, *, error: str | None = None) -> None:
        """Write the listener's state row; a database hiccup is logged, never fatal to the connection."""
        defaults = {"state": state, "since": timezone.now(), "worker": self.worker_id, "reconnects": self.reconnects}
        if error is not None:
            defaults["last_error"] = error
        # A worker thread lives longer than any request: drop connections the server has closed.
        close_old_connections()
        try:
            ListenerState.objects.update_or_create(integration=self.integration, name=self.name, defaults=defaults)
        except DatabaseError as exc:
            logger.warning("%s: could not record state %s: %s", self.label, state, type(exc).__name__)
