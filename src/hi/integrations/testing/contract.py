"""GatewayContractTests: lifecycle checks every service's tests inherit by subclassing."""
from __future__ import annotations

import json
from typing import Any

import pytest

from hi.workspaces.models import Workspace

from ..config import lifecycle, setup
from ..console.diagnostics import build_diagnostics
from ..contract.gateway import contract_problems
from ..core.errors import SetupError
from ..factory import get_integration_gateway
from ..models import Integration, IntegrationState
from ..simulation import FakeProviderServer
from ..types import IntegrationType


@pytest.mark.django_db
class GatewayContractTests:
    """Subclass and fill in the hooks; pytest then runs these tests against the service's simulator."""

    integration_type: IntegrationType
    #: Secret values used by valid_attributes(); none may leak into diagnostics.
    secret_canaries: tuple[str, ...] = ()

    # Hooks a service fills in ----------------------------------------------------------------
    def start_simulator(self) -> FakeProviderServer:
        """Return a started simulator of the provider."""
        raise NotImplementedError

    def valid_attributes(self, sim: FakeProviderServer) -> dict[str, Any]:
        """Raw attribute values that pass the connection test against `sim`."""
        raise NotImplementedError

    def bad_auth_attributes(self, sim: FakeProviderServer) -> dict[str, Any]:
        """Raw attribute values whose credentials `sim` refuses."""
        raise NotImplementedError

    def revoke_credentials(self, sim: FakeProviderServer) -> None:
        """Make `sim` refuse the credentials of valid_attributes() from now on."""
        sim.faults.auth_refused = True

    def make_unavailable(self, sim: FakeProviderServer) -> None:
        """Make `sim` answer as a provider outage would."""
        sim.faults.status = 503

    # Fixtures --------------------------------------------------------------------------------
    @pytest.fixture
    def sim(self):
        """A running simulator, stopped after the test."""
        server = self.start_simulator()
        yield server
        server.stop()

    @pytest.fixture
    def workspace(self, db):
        """A workspace to own the integrations."""
        return Workspace.objects.create(slug="contract", name="Contract")

    def add(self, workspace, sim, name: str = "Under test") -> Integration:
        """Add an integration through the same flow as the console."""
        return setup.add_integration(workspace, self.integration_type, name, self.valid_attributes(sim), actor="test")

    # The contract ----------------------------------------------------------------------------
    def test_gateway_fulfils_the_contract(self):
        """The gateway fulfils the contract and is a singleton."""
        gateway = get_integration_gateway(self.integration_type)
        assert contract_problems(type(gateway)) == []
        assert get_integration_gateway(self.integration_type) is gateway

    def test_validate_configuration_makes_no_network_call(self, sim):
        """Validating the configuration makes no call to the provider."""
        sim.requests.clear()
        setup.check_configuration(self.integration_type, self.valid_attributes(sim))
        assert sim.requests == []

    def test_connection_test_identifies_the_account(self, sim):
        """A connection test with valid credentials identifies the account."""
        values = setup.check_configuration(self.integration_type, self.valid_attributes(sim))
        info = setup.probe(self.integration_type, values, timeout_s=5)
        assert info.unique_id

    def test_connection_test_reports_refused_credentials_as_invalid_auth(self, sim):
        """A connection test with refused credentials is invalid_auth."""
        values = setup.check_configuration(self.integration_type, self.bad_auth_attributes(sim))
        with pytest.raises(SetupError) as caught:
            setup.probe(self.integration_type, values, timeout_s=5)
        assert caught.value.code == "invalid_auth"

    def test_connection_test_reports_an_outage_as_cannot_connect(self, sim):
        """A connection test during an outage is cannot_connect."""
        values = setup.check_configuration(self.integration_type, self.valid_attributes(sim))
        self.make_unavailable(sim)
        with pytest.raises(SetupError) as caught:
            setup.probe(self.integration_type, values, timeout_s=5)
        assert caught.value.code == "cannot_connect"

    def test_add_saves_and_activates(self, workspace, sim):
        """Adding an integration saves it and activates it."""
        integration = self.add(workspace, sim)
        assert integration.state == IntegrationState.ACTIVE
        assert Integration.objects.filter(workspace=workspace).count() == 1

    def test_the_same_account_twice_is_already_configured(self, workspace, sim):
        """The same account added twice in a workspace is already_configured."""
        self.add(workspace, sim)
        with pytest.raises(SetupError) as caught:
            self.add(workspace, sim, name="Again")
        assert caught.value.code == "already_configured"
        assert Integration.objects.filter(workspace=workspace).count() == 1

    def test_an_account_in_a_second_workspace_follows_the_single_consumer_rule(self, workspace, sim):
        """The same account in a second workspace is refused for a single consumer, allowed otherwise."""
        first = self.add(workspace, sim)
        elsewhere = Workspace.objects.create(slug="contract-2", name="Second Tenant Name")
        if not get_integration_gateway(self.integration_type).single_consumer:
            assert self.add(elsewhere, sim).unique_id == first.unique_id  # one per workspace
            return
        with pytest.raises(SetupError) as caught:
            self.add(elsewhere, sim)
        assert caught.value.code == "already_connected_elsewhere"
        assert "another workspace" in caught.value.message and workspace.name not in caught.value.message
        assert not Integration.objects.filter(workspace=elsewhere).exists()

    def test_nothing_is_saved_when_the_test_fails(self, workspace, sim):
        """Nothing is saved when the connection test fails."""
        self.make_unavailable(sim)
        with pytest.raises(SetupError):
            self.add(workspace, sim)
        assert not Integration.objects.filter(workspace=workspace).exists()

    def test_an_outage_at_activation_is_setup_retry(self, workspace, sim):
        """An outage when activating leaves the integration in setup_retry, with a reason and a next attempt."""
        integration = lifecycle.deactivate(self.add(workspace, sim), actor="test")
        self.make_unavailable(sim)
        integration = lifecycle.activate(integration, actor="test")
        assert integration.state == IntegrationState.SETUP_RETRY
        assert integration.next_attempt_at is not None and integration.reason

    def test_revoked_credentials_at_activation_are_auth_failed(self, workspace, sim):
        """Revoked credentials when activating leave the integration auth_failed."""
        integration = lifecycle.deactivate(self.add(workspace, sim), actor="test")
        self.revoke_credentials(sim)
        integration = lifecycle.activate(integration, actor="test")
        assert integration.state == IntegrationState.AUTH_FAILED

    def test_deactivate_disables(self, workspace, sim):
        """Deactivating disables the integration."""
        integration = lifecycle.deactivate(self.add(workspace, sim), actor="test")
        assert integration.state == IntegrationState.DISABLED

    def test_reauthenticate_never_creates_a_second_integration(self, workspace, sim):
        """Re-authenticating updates the integration and never creates a second one."""
        integration = self.add(workspace, sim)
        credentials = {
            spec.key: value
            for spec in get_integration_gateway(self.integration_type).attribute_type.specs()
            if (spec.credential or spec.is_secret) and (value := self.valid_attributes(sim).get(spec.key)) is not None
        }
        integration = setup.reauthenticate(integration, credentials, actor="test")
        assert integration.state == IntegrationState.ACTIVE
        assert Integration.objects.filter(workspace=workspace).count() == 1

    def test_diagnostics_never_contain_secrets(self, workspace, sim):
        """Diagnostics never contain a secret."""
        integration = self.add(workspace, sim)
        document = json.dumps(build_diagnostics(integration))
        for canary in self.secret_canaries:
            assert canary not in document
