"""The type registry, the singleton factory and the system checks that guard the contract."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from hi.integrations.checks import integration_type_errors
from hi.integrations.contract.attributes import AttributeSpec, AttributeType
from hi.integrations.contract.gateway import Capability, ConnectionInfo, IntegrationGateway, contract_problems
from hi.integrations.factory import get_integration_gateway
from hi.integrations.types import IntegrationType
from hi.services.demo.gateway import DemoGateway


class OnlyAttribute(AttributeType):
    """A test-only attribute enum."""

    TOKEN = AttributeSpec(key="token", label="Token")


class CompleteGateway(IntegrationGateway):
    """A test-only gateway that fulfils the contract."""

    attribute_type = OnlyAttribute

    def activate(self, integration):
        """Nothing to start."""

    def deactivate(self, integration):
        """Nothing to stop."""

    def manage(self, request, integration):
        """No management page."""
        return ""

    def validate_configuration(self, attributes):
        """Nothing to validate."""

    def test_connection(self, attributes, timeout_s): return ConnectionInfo("x")


class MissingManageGateway(CompleteGateway):
    """A test-only gateway that forgot manage() (inherits the base's)."""

    manage = IntegrationGateway.manage


class ClaimsSyncGateway(CompleteGateway):
    """A test-only gateway that declares entity sync without implementing it."""

    capabilities = frozenset({Capability.ENTITY_SYNC})


class NoAttributesGateway(CompleteGateway):
    """A test-only gateway without an attribute enum."""

    attribute_type = None


def fake_type(name: str, app: str, gateway_path: str) -> SimpleNamespace:
    """Something shaped like an IntegrationType member, for the check."""
    return SimpleNamespace(name=name, app=app, gateway_path=gateway_path)


def test_every_type_resolves_to_a_singleton_gateway():
    for member in IntegrationType:
        assert get_integration_gateway(member) is get_integration_gateway(member.type_id)
    assert isinstance(get_integration_gateway(IntegrationType.DEMO), DemoGateway)


def test_the_singleton_is_created_once_under_concurrent_callers():
    from hi.integrations import factory

    factory._gateways.clear()
    seen: list[object] = []
    barrier = threading.Barrier(8)

    def call():
        """Wait for the others, then get the gateway."""
        barrier.wait()
        seen.append(get_integration_gateway(IntegrationType.DEMO))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len({id(g) for g in seen}) == 1


def test_types_carry_id_label_description_and_gateway_path():
    for member in IntegrationType:
        assert member.type_id and member.label and member.description and member.gateway_path
        assert IntegrationType.from_id(member.type_id) is member


def test_a_complete_gateway_has_no_contract_problems():
    assert contract_problems(CompleteGateway) == []
    assert contract_problems(DemoGateway) == []


def test_missing_parts_of_the_contract_are_named():
    assert contract_problems(MissingManageGateway) == ["does not implement manage()"]
    assert contract_problems(ClaimsSyncGateway) == ["declares entity_sync but does not implement sync_entities()"]
    assert contract_problems(NoAttributesGateway) == ["attribute_type is not an AttributeType enum"]
    assert contract_problems(object) == [f"{object!r} is not a subclass of IntegrationGateway"]


def test_the_system_check_passes_for_the_installed_types():
    assert integration_type_errors(IntegrationType) == []


def test_the_system_check_fails_for_an_app_that_is_not_installed():
    errors = integration_type_errors([fake_type("GHOST", "hi.services.ghost", "hi.services.ghost.gateway.G")])
    assert [e.id for e in errors] == ["hi.E001"]
    assert "hi.services.ghost" in errors[0].msg


def test_the_system_check_fails_for_an_incomplete_gateway():
    path = f"{__name__}.MissingManageGateway"
    errors = integration_type_errors([fake_type("HALF", "hi.services.demo", path)])
    assert [e.id for e in errors] == ["hi.E003"]
    assert "manage()" in errors[0].msg


def test_the_system_check_fails_for_a_gateway_that_cannot_be_imported():
    errors = integration_type_errors([fake_type("TYPO", "hi.services.demo", "hi.services.demo.gateway.Nope")])
    assert [e.id for e in errors] == ["hi.E002"]


def test_a_malformed_allowed_network_fails_the_system_check(settings):
    from hi.integrations.checks import check_outbound_allowed_networks

    settings.HI_OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8", "not-a-network"]
    assert [e.id for e in check_outbound_allowed_networks()] == ["hi.E004"]
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert check_outbound_allowed_networks() == []
    settings.HI_WEBHOOK_ALLOWED_NETWORKS = ["not-a-network"]  # the older name is checked too
    assert [e.id for e in check_outbound_allowed_networks()] == ["hi.E004"]
