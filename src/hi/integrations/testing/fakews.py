"""The fake websocket provider, for tests: it lives in hi.integrations.simulation (simulators run on it), re-exported here."""
from ..simulation.websocket import FakeWebsocketServer

__all__ = ["FakeWebsocketServer"]
