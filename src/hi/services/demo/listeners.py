"""The demo provider's push channel: item changes over a websocket, applied to entities."""
from __future__ import annotations

import json

from hi.integrations.api import (
    ListenerAuthFailed,
    WebsocketConnection,
    WebsocketListener,
    attribute_values,
    loads,
    upsert_entity,
)

from .client import client_for
from .handlers import item_entity


class ItemStream(WebsocketListener):
    """Listens to item.updated messages; the worker holds it open while the integration is active."""

    name = "items"

    def _values(self) -> dict:
        """The integration's current settings."""
        return attribute_values(self.integration)

    def url(self) -> str:
        """The provider says where its stream is (GET /api/v1/stream)."""
        return client_for(self.integration).stream_url()

    def authenticate(self, ws: WebsocketConnection) -> None:
        """Send the API key; anything but auth_ok is a refusal."""
        ws.send(json.dumps({"action": "auth", "token": self._values()["api_key"]}))
        answer = json.loads(ws.recv(timeout=self.open_timeout_s))
        if answer.get("type") != "auth_ok":
            raise ListenerAuthFailed(f"The provider refused the API key: {answer.get('reason', answer.get('type'))}")

    def subscribe(self, ws: WebsocketConnection) -> None:
        """Ask for item changes and wait for the acknowledgement."""
        ws.send(json.dumps({"action": "subscribe", "topics": ["items"]}))
        json.loads(ws.recv(timeout=self.open_timeout_s))

    def handle(self, message: str | bytes) -> None:
        """item.updated → the entity is created or refreshed; a message hi cannot read raises and is skipped."""
        event = loads(message)
        if not isinstance(event, dict) or event.get("type") != "item.updated":
            return
        upsert_entity(self.integration, item_entity(event.get("item")))
