"""A simulator of the demo provider: a real HTTP server on 127.0.0.1 with fault knobs."""
from __future__ import annotations

from typing import Callable

from hi.integrations.simulation import FakeProviderServer, FakeRequest, FakeWebsocketServer, Response, json_response

DEFAULT_ACCOUNTS = {
    "demo-key": {"id": "acct-demo", "name": "Demo Store"},
    "demo-key-2": {"id": "acct-second", "name": "Second Demo Store"},
}
DEFAULT_ITEMS = [
    {"id": "SKU-001", "name": "Espresso beans 1 kg", "kind": "product", "status": "active"},
    {"id": "SKU-002", "name": "Oat milk 1 l", "kind": "product", "status": "active"},
    {"id": "SKU-003", "name": "Paper cups (50)", "kind": "supply", "status": "active"},
    {"id": "SKU-004", "name": "Winter blend (retired)", "kind": "product", "status": "archived"},
]


class DemoSimulator(FakeProviderServer):
    """Speaks the demo provider's API: bearer keys, an account, paged items."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, stream: bool = False) -> None:
        """A simulator with the default accounts and items; with `stream`, a websocket for item changes too."""
        super().__init__(host, port)
        #: With `stream`, item changes are also pushed over a websocket (GET /api/v1/stream says where).
        self.stream = FakeWebsocketServer(token=tuple(DEFAULT_ACCOUNTS)) if stream else None
        self.accounts = {key: dict(account) for key, account in DEFAULT_ACCOUNTS.items()}
        self.items = [dict(item) for item in DEFAULT_ITEMS]
        self.route("GET", "/api/v1/account", self.account)
        self.route("GET", "/api/v1/items", self.list_items)
        self.route("PUT", "/api/v1/connection", self.set_connection)
        self.route("POST", "/api/v1/notes", self.add_note)
        self.route("GET", "/api/v1/stream", self.stream_info)
        #: Notes received, in order; a repeated Idempotency-Key does not add a second one.
        self.notes: list[dict] = []
        self._notes_by_key: dict[str, dict] = {}
        #: What each account was last told about hi's connection ("connected"/"disconnected").
        self.connections: dict[str, str] = {}
        self.route("POST", "/_simulator/items", self.change_item)

    def _account_for(self, request: FakeRequest) -> dict | None:
        """The account of the request's bearer key, if the key is known."""
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        return self.accounts.get(key) if scheme.lower() == "bearer" else None

    def account(self, request: FakeRequest) -> Response:
        """GET /api/v1/account: who the key belongs to."""
        account = self._account_for(request)
        if account is None:
            return json_response(401, {"error": "invalid_api_key"})
        return json_response(200, account)

    def set_connection(self, request: FakeRequest) -> Response:
        """PUT /api/v1/connection {"status": "connected"|"disconnected"}: hi announces itself."""
        account = self._account_for(request)
        if account is None:
            return json_response(401, {"error": "invalid_api_key"})
        try:
            status = request.json()["status"]
        except (ValueError, KeyError, TypeError):
            return json_response(400, {"error": "expected {\"status\": ...}"})
        if status not in {"connected", "disconnected"}:
            return json_response(400, {"error": "status must be connected or disconnected"})
        self.connections[account["id"]] = status
        return json_response(200, {"account": account["id"], "status": status})

    def change_item(self, request: FakeRequest) -> Response:
        """POST /_simulator/items {"id", "name"?, "status"?}: change an item as its owner would."""
        try:
            knobs = request.json() or {}
            changes = {k: str(v) for k, v in knobs.items() if k in ("name", "status", "kind")}
            item = self.update_item(str(knobs["id"]), **changes)
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
            return json_response(400, {"error": "expected {id: a known item id, name?, status?, kind?}"})
        return json_response(200, item)

    def stream_info(self, request: FakeRequest) -> Response:
        """GET /api/v1/stream: where live item updates are pushed (404 when not offered)."""
        if self._account_for(request) is None:
            return json_response(401, {"error": "invalid_api_key"})
        if self.stream is None:
            return json_response(404, {"error": "no live updates on this provider"})
        return json_response(200, {"url": self.stream.url})

    def update_item(self, item_id: str, **changes: str) -> dict:
        """Change an item (as the provider's owner would) and push it to stream subscribers."""
        item = next(i for i in self.items if i["id"] == item_id)
        item.update(changes)
        if self.stream is not None:
            self.stream.push({"type": "item.updated", "item": dict(item)})
        return item

    def start(self) -> "DemoSimulator":
        """Serve the API (and the stream, when offered)."""
        if self.stream is not None:
            self.stream.start()
        super().start()
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground (the stream in its own threads)."""
        if self.stream is not None:
            self.stream.start()
        super().serve_forever()

    def stop(self) -> None:
        """Stop the API (and the stream)."""
        super().stop()
        if self.stream is not None:
            self.stream.stop()

    def add_note(self, request: FakeRequest) -> Response:
        """POST /api/v1/notes {"text"}: store a note; the Idempotency-Key header dedupes retries."""
        account = self._account_for(request)
        if account is None:
            return json_response(401, {"error": "invalid_api_key"})
        try:
            text = str(request.json()["text"])
        except (ValueError, KeyError, TypeError):
            return json_response(422, {"error": "expected {\"text\": ...}"})
        key = request.headers.get("idempotency-key", "")
        with self._lock:
            if key and key in self._notes_by_key:
                return json_response(200, self._notes_by_key[key])
            note = {"id": len(self.notes) + 1, "account": account["id"], "text": text, "key": key}
            self.notes.append(note)
            if key:
                self._notes_by_key[key] = note
        return json_response(201, note)

    def list_items(self, request: FakeRequest) -> Response:
        """GET /api/v1/items?status=active|all&limit=&offset=: a page of items."""
        if self._account_for(request) is None:
            return json_response(401, {"error": "invalid_api_key"})
        status = request.query.get("status", ["active"])[0]
        try:
            limit = max(1, int(request.query.get("limit", ["100"])[0]))
            offset = max(0, int(request.query.get("offset", ["0"])[0]))
        except ValueError:
            return json_response(400, {"error": "limit and offset must be integers"})
        items = [i for i in self.items if status == "all" or i["status"] == status]
        page = items[offset : offset + limit]
        next_offset = offset + limit if offset + limit < len(items) else None
        return json_response(200, {"items": page, "next_offset": next_offset})


def build(port: int = 0) -> DemoSimulator:
    """The checklist's hook: the demo provider with its default accounts and items, not started."""
    return DemoSimulator(port=port)


def serve_cli(port: int, options: dict, write: Callable[[str], None]) -> None:
    """hi_simulator hook: serve the demo provider (with live updates) until interrupted."""
    simulator = DemoSimulator(port=port, stream=True)
    write(f"Demo provider simulator on {simulator.url} (API keys: demo-key, demo-key-2; live updates at {simulator.stream.url})")
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
