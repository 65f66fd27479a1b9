"""The iFood service passes the framework's contract tests against its simulator."""
from __future__ import annotations

from hi.integrations.api import IntegrationType
from hi.integrations.testing import GatewayContractTests
from hi.services.ifood.simulator import IFoodSimulator

from .helpers import CLIENT_ID, MERCHANTS, SECRET, attributes


class TestIFoodContract(GatewayContractTests):
    """Lifecycle checks inherited from the kit; the client secret is the canary."""

    integration_type = IntegrationType.IFOOD
    secret_canaries = (SECRET,)

    def start_simulator(self) -> IFoodSimulator:
        """An iFood simulator knowing the test's client and merchants."""
        return IFoodSimulator(credentials={CLIENT_ID: SECRET}, merchants=MERCHANTS).start()

    def valid_attributes(self, sim) -> dict:
        """The attributes of an integration the simulator accepts."""
        return attributes(sim)

    def bad_auth_attributes(self, sim) -> dict:
        """The attributes with a client secret the simulator refuses."""
        return attributes(sim, client_secret="not-the-secret")
