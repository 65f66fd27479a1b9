"""The demo service passes the framework's contract tests against its simulator."""
from __future__ import annotations

from hi.integrations.api import IntegrationType
from hi.integrations.testing import GatewayContractTests
from hi.services.demo.simulator import DemoSimulator

CANARY = "demo-canary-key-9f3a"


class TestDemoContract(GatewayContractTests):
    """Lifecycle checks inherited from the kit."""

    integration_type = IntegrationType.DEMO
    secret_canaries = (CANARY,)

    def start_simulator(self) -> DemoSimulator:
        """A simulator that knows the canary key."""
        sim = DemoSimulator().start()
        sim.accounts[CANARY] = {"id": "acct-canary", "name": "Canary"}
        return sim

    def valid_attributes(self, sim) -> dict:
        """The canary key against the simulator."""
        return {"api_url": sim.url, "api_key": CANARY}

    def bad_auth_attributes(self, sim) -> dict:
        """A key the simulator does not know."""
        return {"api_url": sim.url, "api_key": "wrong-key"}
