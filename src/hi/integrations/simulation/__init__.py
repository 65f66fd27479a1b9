"""What a provider simulator runs on: a fake HTTP provider and a fake websocket provider, real servers on 127.0.0.1."""
# Runtime code, not test code: `manage.py hi_simulator` serves a service's simulator for the demo and for
# operators trying hi without a provider account, and tests start the same simulators. A service's
# `simulator/` package imports this module (the contracts in .importlinter allow it there, and in tests,
# nowhere else); it imports nothing else of hi, and no development dependency.
from .control import SimulatedClock, bad_request, control_body, strict
from .server import CONTROL_PREFIX, KNOBS, STANDARD_KNOBS, FakeProviderServer, FakeRequest, Faults, Response, Route, json_response
from .websocket import FakeWebsocketServer

__all__ = [
    "CONTROL_PREFIX", "KNOBS", "STANDARD_KNOBS", "FakeProviderServer", "FakeRequest", "Faults", "Response", "Route", "json_response",
    "FakeWebsocketServer", "SimulatedClock", "bad_request", "control_body", "strict",
]
