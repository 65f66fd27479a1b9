"""Airtime vouchers's own behaviour, as given / when / then examples against its simulator."""
from __future__ import annotations


import pytest
import requests

from hi.integrations.api import IntegrationState, IntegrationType
from hi.integrations.testing import setup
from hi.services.airtime.jobs import check_account
from hi.services.airtime.simulator import AirtimeSimulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim():
    """A running simulator of Airtime vouchers."""
    with AirtimeSimulator() as server:
        yield server


def attributes(sim: AirtimeSimulator) -> dict:
    """Raw attributes of an integration against the simulator's example account."""
    return {"api_base_url": sim.url, "api_key": "example-key"}


def test_an_integration_added_without_a_name_is_named_after_the_account(workspace, sim):
    # given the simulator's example account
    # when an operator adds an integration and leaves its name blank
    integration = setup.add_integration(workspace, IntegrationType.AIRTIME, "", attributes(sim), actor="test")
    # then it is active, and named as Airtime vouchers names the account
    assert integration.state == IntegrationState.ACTIVE
    assert (integration.name, integration.unique_id) == ("Example account", "acct-example")


def test_the_account_check_moves_refused_credentials_to_auth_failed(workspace, sim):
    # given an active integration, whose credentials Airtime vouchers then refuses (its control endpoint's knob)
    integration = setup.add_integration(workspace, IntegrationType.AIRTIME, "Shop", attributes(sim), actor="test")
    requests.post(f"{sim.url}/_simulator/faults", json={"status": 401}, timeout=5)
    # when the scheduled account check runs
    check_account(integration)
    # then the integration waits for the operator to re-authenticate
    integration.refresh_from_db()
    assert integration.state == IntegrationState.AUTH_FAILED
