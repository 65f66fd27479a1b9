"""The fake HTTP provider, for tests: it lives in hi.integrations.simulation (simulators run on it), re-exported here."""
from ..simulation.server import CONTROL_PREFIX, FakeProviderServer, FakeRequest, Faults, Response, Route, json_response

__all__ = ["CONTROL_PREFIX", "FakeProviderServer", "FakeRequest", "Faults", "Response", "Route", "json_response"]
