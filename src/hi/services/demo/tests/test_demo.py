"""Demo-specific behaviour: paging, catalogs, validation and the simulator's knobs."""
from __future__ import annotations

import pytest
import requests

from hi.conftest import demo_attributes
from hi.integrations.api import IntegrationType, SetupError, sync_now
from hi.integrations.testing import setup

pytestmark = pytest.mark.django_db


def test_sync_follows_paging_and_the_catalog(workspace, sim):
    integration = setup.add_integration(workspace, IntegrationType.DEMO, "D", demo_attributes(sim, page_size="1"), actor="t")
    assert sorted(integration.entities.values_list("external_id", flat=True)) == ["sku-001", "sku-002", "sku-003"]
    assert len(sim.requests_to("/api/v1/items")) == 3
    setup.reconfigure(integration, {"catalog": "all"}, actor="t")
    assert integration.entities.count() == 4


def test_an_api_url_with_a_query_is_refused_offline(sim):
    with pytest.raises(SetupError) as caught:
        setup.check_configuration(IntegrationType.DEMO, demo_attributes(sim, api_url=f"{sim.url}/?x=1"))
    assert caught.value.code == "invalid" and "api_url" in caught.value.field_errors
    assert sim.requests == []


def test_sync_without_sync_on_activate_starts_empty(workspace, sim):
    integration = setup.add_integration(
        workspace, IntegrationType.DEMO, "D", demo_attributes(sim, sync_on_activate="false"), actor="t"
    )
    assert integration.entities.count() == 0
    assert len(sync_now(integration).created) == 3


def test_the_fault_endpoint_controls_the_simulator(sim):
    requests.post(f"{sim.url}/_simulator/faults", json={"status": 503}, timeout=5)
    answer = requests.get(f"{sim.url}/api/v1/account", headers={"Authorization": "Bearer demo-key"}, timeout=5)
    assert answer.status_code == 503
    requests.post(f"{sim.url}/_simulator/faults", json={"reset": True}, timeout=5)
    answer = requests.get(f"{sim.url}/api/v1/account", headers={"Authorization": "Bearer demo-key"}, timeout=5)
    assert answer.json() == {"id": "acct-demo", "name": "Demo Store"}


def test_a_slow_provider_is_cut_off_by_the_connection_test_timeout(sim):
    sim.faults.delay_s = 3
    values = setup.check_configuration(IntegrationType.DEMO, demo_attributes(sim))
    with pytest.raises(SetupError) as caught:
        setup.probe(IntegrationType.DEMO, values, timeout_s=0.5)
    assert caught.value.code == "cannot_connect"


@pytest.mark.parametrize("knobs", [{"status": "503"}, {"status": 42}, {"fail_next": "many"}, ["not", "an", "object"]])
def test_the_fault_endpoint_refuses_bad_knobs(sim, knobs):
    answer = requests.post(f"{sim.url}/_simulator/faults", json=knobs, timeout=5)
    assert answer.status_code == 400
    assert sim.faults.status is None and sim.faults.fail_next == 0


def test_an_item_change_is_pushed_to_stream_subscribers():
    from hi.integrations.testing.fakews import FakeWebsocketServer  # noqa: F401 - the stream's server
    from hi.services.demo.simulator import DemoSimulator

    sim = DemoSimulator(stream=True).start()
    try:
        answer = requests.post(f"{sim.url}/_simulator/items", json={"id": "SKU-001", "name": "Beans 2 kg"}, timeout=5)
        assert answer.status_code == 200 and answer.json()["name"] == "Beans 2 kg"
        assert requests.post(f"{sim.url}/_simulator/items", json={"id": "nope"}, timeout=5).status_code == 400
        stream = requests.get(f"{sim.url}/api/v1/stream", headers={"Authorization": "Bearer demo-key-2"}, timeout=5).json()
        assert stream["url"].startswith("ws://127.0.0.1:")
    finally:
        sim.stop()
