"""Every service keeps the standard files: scheduled jobs in jobs.py, the pane in pane.py, client_for in client.py."""
from __future__ import annotations

import importlib
import inspect

import pytest

from hi.integrations.contract.gateway import Capability
from hi.integrations.factory import get_integration_gateway
from hi.integrations.types import IntegrationType


def test_a_service_s_scheduled_jobs_live_in_its_jobs_module():
    """Given the services that declare scheduled jobs, then each job's function is defined in <app>/jobs.py."""
    homes = {
        member.type_id: {job.run.__module__ for job in gateway.scheduled_jobs()}
        for member in IntegrationType
        if (gateway := get_integration_gateway(member)).supports(Capability.SCHEDULED_JOBS)
    }
    assert homes == {member.type_id: {f"{member.app}.jobs"} for member in IntegrationType if member.type_id in homes}
    assert homes  # the registry has services with jobs to check


@pytest.mark.parametrize("member", list(IntegrationType), ids=lambda member: member.type_id)
def test_a_service_s_pane_is_built_in_its_pane_module(member: IntegrationType):
    """Every service's pane context comes from <app>/pane.py, which its gateway's manage() renders."""
    pane = importlib.import_module(f"{member.app}.pane")
    assert callable(pane.pane_context)
    assert "pane_context(" in inspect.getsource(type(get_integration_gateway(member)).manage)


@pytest.mark.parametrize("member", [
    IntegrationType.DEMO, IntegrationType.IFOOD, IntegrationType.WHATSAPP
], ids=lambda member: member.type_id)
def test_client_for_has_one_shape_in_client_py(member: IntegrationType):
    """A service calling one configured provider gets the integration's client from <app>/client.py's client_for(integration, timeout_s)."""
    client = importlib.import_module(f"{member.app}.client")
    assert list(inspect.signature(client.client_for).parameters) == ["integration", "timeout_s"]
