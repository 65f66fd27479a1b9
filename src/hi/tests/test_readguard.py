"""The request body guard in front of Django: whole bodies only, within a deadline and a cap."""
from __future__ import annotations

import asyncio
import json

from hi.readguard import RequestBodyGuard


class App:
    """An ASGI app that records what reached it and answers 204."""

    def __init__(self) -> None:
        """An app that has seen no request yet."""
        self.calls: list[tuple[dict, bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        """Read one message, record it and answer 204."""
        message = await receive()
        self.calls.append((scope, message["body"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def run(guard: RequestBodyGuard, headers: list[tuple[bytes, bytes]], messages: list[dict], stall: bool = False) -> list[dict]:
    """Send one request through the guard; `stall`: after `messages`, the client sends nothing more."""
    sent: list[dict] = []
    queue = list(messages)

    async def receive() -> dict:
        """The next queued message; then a stall or a disconnect."""
        if queue:
            return queue.pop(0)
        if stall:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        """Record what the app sends."""
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/hooks/x/", "headers": headers, "client": ("127.0.0.1", 5000)}
    asyncio.run(guard(scope, receive, send))
    return sent


def chunk(body: bytes, more: bool) -> dict:
    """One http.request message."""
    return {"type": "http.request", "body": body, "more_body": more}


def test_a_body_in_pieces_reaches_the_app_whole_with_its_real_length():
    app = App()
    guard = RequestBodyGuard(app, read_timeout_s=5, max_body_bytes=100)
    # A chunked request: no Content-Length, the body in three pieces.
    sent = run(guard, [(b"transfer-encoding", b"chunked")], [chunk(b'{"a"', True), chunk(b": 1", True), chunk(b"}", False)])
    [(scope, body)] = app.calls
    assert body == b'{"a": 1}'
    assert dict(scope["headers"]) == {b"content-length": b"8"}
    assert sent[0]["status"] == 204


def test_a_stalled_body_is_answered_408_and_never_reaches_the_app():
    app = App()
    guard = RequestBodyGuard(app, read_timeout_s=0.2, max_body_bytes=100)
    sent = run(guard, [(b"content-length", b"50")], [chunk(b"{}", True)], stall=True)
    assert app.calls == []
    assert sent[0]["status"] == 408 and (b"connection", b"close") in sent[0]["headers"]
    assert "did not arrive" in json.loads(sent[1]["body"])["error"]


def test_a_body_over_the_cap_is_answered_413_declared_or_not():
    app = App()
    guard = RequestBodyGuard(app, read_timeout_s=5, max_body_bytes=10)
    assert run(guard, [(b"content-length", b"11")], [])[0]["status"] == 413  # refused before reading
    assert run(guard, [], [chunk(b"x" * 8, True), chunk(b"x" * 8, False)])[0]["status"] == 413
    assert app.calls == []


def test_a_client_that_leaves_before_its_body_arrived_gets_nothing():
    app = App()
    sent = run(RequestBodyGuard(app, read_timeout_s=5, max_body_bytes=10), [(b"content-length", b"5")], [chunk(b"ab", True)])
    assert sent == [] and app.calls == []


def test_other_scopes_pass_through():
    seen = []

    async def app(scope, receive, send):
        """Record the scope's type."""
        seen.append(scope["type"])

    asyncio.run(RequestBodyGuard(app, read_timeout_s=1, max_body_bytes=1)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]
