"""The transport under ProviderClient: connections only to addresses the SSRF guard checked, and a deadline per call."""
# Pinning (DNS rebinding): the guard resolves the host name once, when a connection is made, checks every address,
# and the socket connects to one of those addresses; nothing resolves the name again. The name itself stays the
# connection's host, so the Host header, TLS's SNI and certificate verification all use the name, as before.
# Deadlines: per-read timeouts never fire against a provider that drips a byte every few seconds. Each call runs
# under a Deadline; every socket it uses is watched, and one watchdog thread shuts those sockets down when the
# deadline passes, which ends whatever read, write or TLS handshake is blocked on them, in any thread.
from __future__ import annotations

import heapq
import itertools
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.exceptions import TimeoutError as UrllibTimeout
from urllib3.util import connection as urllib3_connection

from ..core.errors import UnresolvableHost
from . import ssrf


class Deadline:
    """When one provider call must be over; the sockets it uses are shut down at that moment."""

    def __init__(self, seconds: float, outer: "Deadline | None" = None) -> None:
        """A deadline `seconds` from now, or the outer call's when that comes sooner."""
        now = time.monotonic()
        # A call inside another (a token fetched for a request) ends by the sooner of the two deadlines.
        self.at = now + seconds if outer is None else min(now + seconds, outer.at)
        #: The time the call was given, for messages.
        self.seconds = max(0.0, self.at - now)
        #: Whether the watchdog ended the call (its answer, if any, may be cut short).
        self.expired = False
        #: Whether a request of this call was written whole: after that, a lost answer does not mean the provider
        #: did nothing (ProviderError.request_sent).
        self.sent = False
        self._done = False
        self._handles: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        """Whether the deadline is behind us, whether or not the watchdog has acted yet."""
        return self.expired or self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes."""
        # The watch holds a duplicate descriptor: wrapping a socket in TLS detaches the original Python object,
        # and shutdown(2) acts on the connection whichever descriptor names it.
        try:
            handle = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        except OSError:
            return  # already closed: nothing to watch
        with self._lock:
            if self._done:
                handle.close()
                return
            self._handles.append(handle)
            if self.expired:
                _shut(handle)

    def expire(self) -> None:
        """The watchdog's act: mark the call late and end every transfer on its sockets."""
        with self._lock:
            # Under the lock, so that finish() cannot close a descriptor (and the number be reused) meanwhile.
            if self._done:
                return
            self.expired = True
            for handle in self._handles:
                _shut(handle)

    def finish(self) -> None:
        """The call is over: stop watching (its connections may go back to the pool)."""
        with self._lock:
            self._done = True
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.close()

    @property
    def done(self) -> bool:
        """Whether the call ended (the watchdog forgets it)."""
        return self._done


def _shut(handle: socket.socket) -> None:
    """Shut a watched connection down both ways; one already closed is fine."""
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


#: The watchdog forgets finished calls once it holds at least this many entries (and twice the live ones).
PURGE_MIN = 64


class _Watchdog:
    """One daemon thread that expires deadlines in time order."""

    def __init__(self) -> None:
        """No deadline watched yet; the watching thread starts with the first one."""
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._purge_at = PURGE_MIN

    def add(self, deadline: Deadline) -> None:
        """Expire `deadline` at its time unless it finishes first."""
        with self._cond:
            if len(self._heap) >= self._purge_at:
                # Most calls finish long before their deadline: drop those entries in one pass now and then,
                # rather than wake at each one's time (amortised O(1) per call).
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._purge_at = max(PURGE_MIN, 2 * len(self._heap))
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="hi-http-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._cond.notify()  # sooner than what the thread sleeps towards

    def _run(self) -> None:
        """Sleep until the soonest deadline, expire what is due, forever (a daemon thread)."""
        while True:
            with self._cond:
                now = time.monotonic()
                due = []
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].done):
                    due.append(heapq.heappop(self._heap)[2])
                if not due:
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
                    continue
            for deadline in due:
                deadline.expire()


_watchdog = _Watchdog()
_current: ContextVar[Deadline | None] = ContextVar("hi_http_deadline", default=None)


def _after_fork() -> None:
    """A forked child has no watchdog thread, and maybe a lock held by a parent thread: start afresh."""
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


def current_deadline() -> Deadline | None:
    """The deadline of the call running in this thread, if any."""
    return _current.get()


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block as one call that must be over within `seconds` (or the enclosing deadline, if sooner)."""
    bound = Deadline(seconds, _current.get())
    token = _current.set(bound)
    _watchdog.add(bound)
    try:
        yield bound
    finally:
        _current.reset(token)
        bound.finish()


def connect_checked(
    scheme: str, host: str, port: int, timeout: float | None, source_address: Any = None, socket_options: Any = None
) -> socket.socket:
    """A socket connected to an address the guard checked for `host` (resolved once); raises UnsafeURL or OSError."""
    # `scheme` is http or https (a websocket's ws/wss count as those): plain http is held to the allow-list.
    addresses = ssrf.check_target(scheme, host, port, resolve=True)
    error: OSError | None = None
    for address in addresses:
        try:
            # A literal address: getaddrinfo does not look anything up, so the name is not resolved twice.
            return urllib3_connection.create_connection(
                (str(address), port), timeout, source_address=source_address, socket_options=socket_options
            )
        except OSError as exc:
            error = exc
    raise error or OSError(f"no address to connect to for {host}")


class _GuardedConnection:
    """A urllib3 connection that resolves its host once, through the guard, and connects to a checked address."""

    scheme = "http"
    # Provided by urllib3's HTTPConnection, which this class is mixed into.
    _dns_host: str
    host: str
    port: int
    timeout: Any
    proxy: Any
    source_address: Any
    socket_options: Any
    sock: Any

    def _new_conn(self) -> socket.socket:
        """A connected socket (to a checked address, or to the environment's proxy), watched by the call's deadline."""
        bound = _current.get()
        if self.proxy is not None:
            # The socket goes to the environment's proxy, not to a provider; GuardedAdapter checked the target.
            sock = super()._new_conn()  # type: ignore[misc]
        else:
            sock = self._connect_checked(bound)
        if bound is not None:
            bound.watch(sock)  # the TLS handshake that follows is watched too
        return sock

    def _connect_checked(self, bound: Deadline | None) -> socket.socket:
        """Resolve and check the host (ssrf.check_target), then connect to the first checked address that answers."""
        timeout = self.timeout
        if bound is not None:
            left = bound.remaining()
            if left <= 0:
                raise ConnectTimeoutError(self, f"Connection to {self.host}: no time left before the call's deadline.")
            timeout = left if timeout is None else min(timeout, left)
        try:
            sock = connect_checked(self.scheme, self._dns_host, self.port, timeout, self.source_address, self.socket_options)
        except UnresolvableHost as exc:
            # As urllib3 reports a failed lookup: a connection error, retried like one.
            raise NameResolutionError(self.host, self, socket.gaierror(str(exc))) from None  # type: ignore[arg-type]
        # UnsafeURL is not an error urllib3 handles: it leaves the call, and ProviderClient reports it.
        except socket.timeout:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout={timeout})") from None
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from None  # type: ignore[arg-type]
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        """Send a request; on a kept-alive connection, check its address again and watch it first."""
        if self.sock is not None:
            # A kept-alive connection: its address is checked again (the allow-list may have narrowed since), and
            # this call's deadline watches it from now on.
            if self.proxy is None:
                self._check_peer()
            bound = _current.get()
            if bound is not None:
                bound.watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]
        bound = _current.get()
        if bound is not None:
            bound.sent = True  # headers and body are out: the provider may act on them whatever happens next

    def _check_peer(self) -> None:
        """Raise UnsafeURL when the address this connection went to is no longer one hi may call."""
        try:
            address = self.sock.getpeername()[0]
        except OSError:
            return  # no longer connected: urllib3 reconnects, through _new_conn and the guard
        ssrf.check_target(self.scheme, address, self.port, resolve=False)


class GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    """Plain http, pinned and guarded."""

    scheme = "http"


class GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    """https, pinned and guarded: the socket goes to the checked address, TLS verifies the name."""
    # urllib3 wraps the socket in TLS with server_hostname = the URL's host name, so SNI is the name and the
    # certificate is verified against the name (ssl's check_hostname), never against the address.

    scheme = "https"


class _GuardedHTTPPool(HTTPConnectionPool):
    """urllib3's pool of plain http connections, guarded."""

    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    """urllib3's pool of https connections, guarded."""

    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose pools make guarded, pinned connections; through a proxy, the target is checked first."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """requests' pool manager, making its pools from the guarded classes."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def send(
        self, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True, cert: Any = None, proxies: Any = None
    ) -> Any:
        """Send through the pools; a request for the environment's proxy has its target checked first."""
        if select_proxy(request.url, proxies):
            _check_through_proxy(request.url)
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)


def _check_through_proxy(url: str) -> None:
    """Check a target the environment's proxy will connect to: it resolves the name itself, so no pinning here."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port
    ssrf.check_target(parts.scheme, host, port, resolve=False)
    try:
        ssrf.check_target(parts.scheme, host, port, resolve=True)
    except UnresolvableHost:
        pass  # a proxy-only network: only the proxy can resolve public names, and the offline rules held


def is_timeout(error: BaseException | None) -> bool:
    """Whether a requests or urllib3 error is a timeout (a refused connection is not)."""
    if isinstance(error, requests.Timeout):
        return True
    inner = error.args[0] if isinstance(error, requests.RequestException) and error.args else error
    reason = getattr(inner, "reason", inner)
    return isinstance(reason, UrllibTimeout) and not isinstance(reason, NewConnectionError)
