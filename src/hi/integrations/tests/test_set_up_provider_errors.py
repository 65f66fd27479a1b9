"""Set-up classifies a provider error a gateway lets through, so a service need not: refused credentials, an outage, a refusal."""
from __future__ import annotations

import pytest

from hi.integrations.config import lifecycle, setup
from hi.integrations.core.errors import SetupError
from hi.integrations.models import IntegrationState
from hi.integrations.types import IntegrationType
from hi.services.airtime.simulator import AirtimeSimulator

# The airtime gateway lets provider errors through its test_connection and activate (it maps none itself).
AIRTIME = IntegrationType.AIRTIME


@pytest.fixture
def sim():
    """The voucher provider."""
    with AirtimeSimulator() as server:
        yield server


def attributes(sim: AirtimeSimulator) -> dict:
    """Valid attributes against the simulator."""
    return {"api_base_url": sim.url, "api_key": "demo-airtime-key", "signing_secret": "demo-signing-secret", "product_map": "A=claro-br"}


@pytest.mark.parametrize(("status", "code"), [
    (401, "invalid_auth"), (403, "invalid_auth"), (503, "cannot_connect"), (404, "cannot_connect")])
def test_a_connection_test_s_provider_error_becomes_its_set_up_code(sim, status: int, code: str):
    # given
    values = setup.check_configuration(AIRTIME, attributes(sim))
    sim.faults.status = status
    # when
    with pytest.raises(SetupError) as caught:
        setup.probe(AIRTIME, values, timeout_s=5)
    # then the operator reads what happened, not "unknown"
    assert caught.value.code == code and f"HTTP {status}" in caught.value.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "state"), [(503, IntegrationState.SETUP_RETRY), (401, IntegrationState.AUTH_FAILED), (404, IntegrationState.SETUP_ERROR)],
)
def test_an_activation_s_provider_error_lands_where_set_up_failure_says(workspace, sim, status: int, state: IntegrationState):
    # given an integration added, then deactivated
    integration = lifecycle.deactivate(setup.add_integration(workspace, AIRTIME, "Top-ups", attributes(sim), actor="t"), actor="t")
    sim.faults.status = status
    # when
    integration = lifecycle.activate(integration, actor="t")
    # then an outage retries, refused credentials wait for the operator, a refusal is a set-up error saying so
    assert integration.state == state and f"HTTP {status}" in integration.reason and "Unexpected error" not in integration.reason
