"""The web tier's guard against slow clients: a request reaches Django only once its body has arrived."""
# Under the production command (see `hi.asgi`) the event loop reads every request body, so a client
# that sends slowly costs an open connection, never one of the few threads that run Django. The body
# must arrive whole within a deadline and under a size cap; otherwise the client gets 408 or 413 and
# the connection is closed, without Django ever seeing the request.
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body is larger than the guard's cap."""


class ClientGone(Exception):
    """The client disconnected before its body arrived."""


class RequestBodyGuard:
    """ASGI middleware: read the whole body within `read_timeout_s` and `max_body_bytes`, then call `app`."""
    # The app receives the body in one message, with `content-length` set to its real size (a chunked
    # body included), so a WSGI app behind an adapter reads it at once and never waits on the client.

    def __init__(self, app: ASGIApp, *, read_timeout_s: float, max_body_bytes: int) -> None:
        """Guard `app`: a body must arrive within `read_timeout_s` and weigh at most `max_body_bytes`."""
        self.app = app
        self.read_timeout_s = read_timeout_s
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Guard HTTP requests; anything else (lifespan) goes straight to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(send, 413, f"The request body is larger than {self.max_body_bytes} bytes.")
            return
        try:
            body = await asyncio.wait_for(self._read(receive), timeout=self.read_timeout_s)
        except asyncio.TimeoutError:
            logger.warning("%s %s from %s: the body did not arrive within %.0f s; answered 408.",
                           scope.get("method"), scope.get("path"), _client(scope), self.read_timeout_s)
            await _refuse(send, 408, f"The request body did not arrive within {self.read_timeout_s:.0f} seconds.")
            return
        except BodyTooLarge:
            await _refuse(send, 413, f"The request body is larger than {self.max_body_bytes} bytes.")
            return
        except ClientGone:
            return
        await self.app(_with_length(scope, len(body)), _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        """Every body chunk up to the last one, or BodyTooLarge / ClientGone."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length the client declared, if any and readable."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _client(scope: Scope) -> str:
    """The client's address, for the log."""
    client = scope.get("client")
    return f"{client[0]}" if client else "an unknown client"


def _with_length(scope: Scope, length: int) -> Scope:
    """The scope with `content-length` the body's real size, and no `transfer-encoding` (it was read)."""
    headers = [(name, value) for name, value in scope.get("headers", ())
               if name.lower() not in (b"content-length", b"transfer-encoding")]
    headers.append((b"content-length", str(length).encode("ascii")))
    return {**scope, "headers": headers}


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over the body read already, then waits for the client's disconnect."""
    delivered = False

    async def replay() -> Message:
        """The body read already, once; then whatever the client sends next."""
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, message: str) -> None:
    """Answer with a short JSON error and ask the server to close the connection."""
    payload = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
