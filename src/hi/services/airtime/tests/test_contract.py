"""The airtime service passes the framework's contract tests against its simulator."""
from __future__ import annotations

from hi.integrations.api import IntegrationType
from hi.integrations.testing import GatewayContractTests
from hi.services.airtime.simulator import AirtimeSimulator

CANARY = "airtime-canary-secret-9f3a"
SIGNING_CANARY = "airtime-canary-signing-7e2c"


class TestAirtimeContract(GatewayContractTests):
    """Lifecycle checks inherited from the kit, against the simulator."""

    integration_type = IntegrationType.AIRTIME
    secret_canaries = (CANARY, SIGNING_CANARY)

    def start_simulator(self) -> AirtimeSimulator:
        """A simulator that knows the canary key and its signing secret."""
        sim = AirtimeSimulator().start()
        sim.keys[CANARY] = (SIGNING_CANARY, {"id": "acct-canary", "name": "Canary"})
        return sim

    def valid_attributes(self, sim: AirtimeSimulator) -> dict:
        """The canary credentials against the simulator."""
        return {"api_base_url": sim.url, "api_key": CANARY, "signing_secret": SIGNING_CANARY, "product_map": "AIR-1=claro-br"}

    def bad_auth_attributes(self, sim: AirtimeSimulator) -> dict:
        """A signing secret the simulator does not know for the key: its signatures do not verify."""
        return {**self.valid_attributes(sim), "signing_secret": "not-the-signing-secret"}
