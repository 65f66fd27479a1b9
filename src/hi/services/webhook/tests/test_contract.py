"""The webhooks service passes the framework's contract tests against its simulator, an endpoint that verifies signatures."""
from __future__ import annotations

import pytest

from hi.integrations.api import IntegrationType
from hi.integrations.testing import GatewayContractTests
from hi.services.webhook.simulator import EndpointSimulator

CANARY = "whsec_Y2FuYXJ5LXNlY3JldC1mb3Itd2ViaG9vay10ZXN0cw=="
OTHER = "whsec_b3RoZXItc2VjcmV0LWZvci13ZWJob29rLXRlc3Rz"


class TestWebhookContract(GatewayContractTests):
    """Lifecycle checks inherited from the kit; the receiver verifies signatures with the canary secret."""

    integration_type = IntegrationType.WEBHOOK
    secret_canaries = (CANARY,)

    @pytest.fixture(autouse=True)
    def allow_loopback(self, settings):
        """The sink listens on 127.0.0.1 over http: allow-list loopback."""
        settings.HI_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    def start_simulator(self) -> EndpointSimulator:
        """An endpoint that verifies with the canary secret."""
        return EndpointSimulator(secret=CANARY).start()

    def valid_attributes(self, sim) -> dict:
        """The endpoint and the canary secret."""
        return {"url": sim.endpoint, "secret": CANARY}

    def bad_auth_attributes(self, sim) -> dict:
        """A secret the receiver does not know: its signature does not verify."""
        return {"url": sim.endpoint, "secret": OTHER}
