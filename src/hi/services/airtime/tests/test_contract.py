"""Airtime vouchers passes the framework's contract tests against its simulator."""
from __future__ import annotations

from hi.integrations.api import IntegrationType
from hi.integrations.testing import GatewayContractTests
from hi.services.airtime.simulator import AirtimeSimulator

CANARY = "airtime-canary-secret-9f3a"


class TestAirtimeContract(GatewayContractTests):
    """Lifecycle checks inherited from the kit, against the simulator."""

    integration_type = IntegrationType.AIRTIME
    secret_canaries = (CANARY,)

    def start_simulator(self) -> AirtimeSimulator:
        """A simulator that knows the canary credentials."""
        sim = AirtimeSimulator().start()
        sim.keys[CANARY] = {"id": "acct-canary", "name": "Canary"}
        return sim

    def valid_attributes(self, sim: AirtimeSimulator) -> dict:
        """The canary credentials against the simulator."""
        return {"api_base_url": sim.url, "api_key": CANARY}

    def bad_auth_attributes(self, sim: AirtimeSimulator) -> dict:
        """A key the simulator does not know."""
        return {**self.valid_attributes(sim), "api_key": "wrong-key"}
