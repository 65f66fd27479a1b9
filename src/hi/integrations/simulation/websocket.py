"""A fake push provider for simulators and tests: a websockets server on 127.0.0.1 behind a relay that can cut or silence connections."""
from __future__ import annotations

import json
import select
import socket
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

#: How often relay threads look at their flags; bounds how long drop() and stop() take.
POLL_S = 0.02


class _Pipe:
    """One client connection relayed to the websockets server, byte for byte."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        """A pipe between a client's socket and the upstream server's."""
        self.client = client
        self.upstream = upstream
        #: While set, nothing is read or forwarded: the peer looks alive to TCP but never answers.
        self.silent = False
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fakews-pipe", daemon=True)

    def cut(self) -> None:
        """End both sides without a websocket close frame, as a network drop would."""
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.closed.set()

    def _run(self) -> None:
        """Forward bytes both ways until either side closes (or nothing while silent)."""
        peers = {self.client: self.upstream, self.upstream: self.client}
        try:
            while not self.closed.is_set():
                if self.silent:
                    time.sleep(POLL_S)
                    continue
                readable, _, _ = select.select(list(peers), [], [], POLL_S)
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                        if data:
                            peers[sock].sendall(data)
                    except OSError:
                        data = b""
                    if not data:
                        self.cut()
                        break
        finally:
            for sock in peers:
                sock.close()


class _Relay:
    """A TCP relay in front of the websockets server, so tests can act at the network level."""

    def __init__(self, host: str, upstream_port: int) -> None:
        """A relay listening on a free port of `host` to `upstream_port`."""
        self.upstream = (host, upstream_port)
        self.listener = socket.create_server((host, 0))
        self.pipes: list[_Pipe] = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, name="fakews-relay", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        """Where clients connect."""
        return self.listener.getsockname()[:2]

    def _accept(self) -> None:
        """Accept connections and pipe each to the upstream server until closed."""
        while not self.closed.is_set():
            readable, _, _ = select.select([self.listener], [], [], POLL_S)
            if not readable:
                continue
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.upstream)
            except OSError:
                continue
            pipe = _Pipe(client, upstream)
            with self.lock:
                self.pipes.append(pipe)
            pipe.thread.start()

    def live_pipes(self) -> list[_Pipe]:
        """Pipes not cut yet."""
        with self.lock:
            return [pipe for pipe in self.pipes if not pipe.closed.is_set()]

    def stop(self) -> None:
        """Stop accepting and cut every pipe."""
        self.closed.set()
        self.thread.join()
        self.listener.close()
        for pipe in self.live_pipes():
            pipe.cut()
        with self.lock:
            pipes = list(self.pipes)
        for pipe in pipes:
            pipe.thread.join()


class FakeWebsocketServer:
    """A push provider speaking a small JSON protocol, with knobs to refuse, drop and black-hole connections."""
    # Protocol: the client sends ``{"action": "auth", "token": ...}`` and gets ``{"type": "auth_ok"}``
    # (or ``{"type": "auth_error"}`` and a 1008 close), then ``{"action": "subscribe", "topics": [...]}``
    # and gets ``{"type": "subscribed", "topics": [...]}``; after that it receives what `push` sends.

    def __init__(self, token: str | tuple[str, ...] = "good-token", host: str = "127.0.0.1") -> None:
        """A server accepting `token` (or any of several) on `host`; not started."""
        #: The accepted token (or tokens).
        self.tokens = (token,) if isinstance(token, str) else tuple(token)
        #: Answer the opening handshake with this HTTP status (e.g. 401, 503) instead of upgrading.
        self.reject_status: int | None = None
        #: Every JSON message clients sent, in order.
        self.received: list[dict[str, Any]] = []
        #: The request headers of every accepted handshake.
        self.handshakes: list[dict[str, str]] = []
        #: The close code each finished connection ended with (None: no close frame).
        self.close_codes: list[int | None] = []
        #: How many subscriptions were acknowledged since start.
        self.subscriptions = 0
        self._subscribers: set[ServerConnection] = set()
        self._changed = threading.Condition()
        # The server never pings: a silenced connection must be found by the client's keepalive.
        self._server = serve(
            self._handle, host, 0, ping_interval=None, close_timeout=0.5, process_request=self._process_request
        )
        self._server_thread = threading.Thread(target=self._server.serve_forever, name="fakews", daemon=True)
        self._relay = _Relay(host, self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The ws:// URL clients connect to."""
        host, port = self._relay.address
        return f"ws://{host}:{port}/events"

    def start(self) -> "FakeWebsocketServer":
        """Serve in daemon threads."""
        self._server_thread.start()
        self._relay.thread.start()
        return self

    def stop(self) -> None:
        """Cut every connection, stop serving and free the ports."""
        self._relay.stop()
        self._server.shutdown()
        self._server_thread.join()

    def __enter__(self) -> "FakeWebsocketServer":
        """Start the server."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop the server."""
        self.stop()

    # Knobs.

    def push(self, message: dict[str, Any]) -> int:
        """Send a JSON message to every subscribed connection; return how many got it."""
        with self._changed:
            subscribers = list(self._subscribers)
        sent = 0
        for connection in subscribers:
            try:
                connection.send(json.dumps(message))
                sent += 1
            except ConnectionClosed:
                continue
        return sent

    def drop(self) -> None:
        """Cut the current connections at the network level: no close frame, like a lost route."""
        for pipe in self._relay.live_pipes():
            pipe.cut()

    def close_all(self, code: int = 1012, reason: str = "service restart") -> None:
        """Close the current connections cleanly from the server side (1012: service restart)."""
        for connection in self._server.connections:
            connection.close(code, reason)

    def blackhole(self) -> None:
        """Silence the current connections: TCP stays up but nothing (not even a pong) comes back."""
        for pipe in self._relay.live_pipes():
            pipe.silent = True

    def wait_subscribed(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until `count` subscriptions were acknowledged since start."""
        with self._changed:
            return self._changed.wait_for(lambda: self.subscriptions >= count, timeout)

    # Server side.

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the opening handshake with `reject_status` when set; else let it upgrade."""
        if self.reject_status is not None:
            return connection.respond(self.reject_status, "refused by the fake provider\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        """Serve one connection: record its handshake, then authenticate, subscribe and push."""
        with self._changed:
            self.handshakes.append(dict(connection.request.headers.raw_items()))
        authenticated = False
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._changed:
                    self.received.append(message)
                action = message.get("action")
                if action == "auth":
                    if message.get("token") not in self.tokens:
                        connection.send(json.dumps({"type": "auth_error", "reason": "invalid token"}))
                        connection.close(1008, "invalid token")
                        break
                    authenticated = True
                    connection.send(json.dumps({"type": "auth_ok"}))
                elif action == "subscribe" and authenticated:
                    connection.send(json.dumps({"type": "subscribed", "topics": message.get("topics", [])}))
                    # Only after the acknowledgement, so that pushes never overtake it.
                    with self._changed:
                        self._subscribers.add(connection)
                        self.subscriptions += 1
                        self._changed.notify_all()
                else:
                    connection.send(json.dumps({"type": "error", "reason": f"unexpected {action!r}"}))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._subscribers.discard(connection)
                self.close_codes.append(connection.close_code)
                self._changed.notify_all()
