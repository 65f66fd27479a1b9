"""`hi_setup --demo`: each service's demo integration is added once, through the validated flow, and only when the demo is on."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hi.integrations.config import lifecycle
from hi.integrations.config.store import attribute_values
from hi.integrations.models import Integration, IntegrationState
from hi.integrations.outbound.http import forget_clients
from hi.integrations.outbound.tokens import forget_tokens
from hi.integrations.types import IntegrationType
from hi.services.ifood.simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_MERCHANTS, IFoodSimulator
from hi.services.whatsapp.simulator import WhatsAppSimulator
from hi.workspaces.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path, monkeypatch):
    """A var/ of the test's own, no leftover token or client, and the demo on as `make run` has it."""
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("HI_DEMO", raising=False)
    monkeypatch.setenv("HI_ADMIN_PASSWORD", "setup-demo-test-password")
    forget_tokens()
    forget_clients()
    yield
    forget_tokens()
    forget_clients()


@pytest.fixture
def ifood_sim():
    """The iFood simulator as `make run` starts it: the default credential and merchants."""
    server = IFoodSimulator().start()
    yield server
    server.stop_background()
    server.stop()


@pytest.fixture
def whatsapp_sim():
    """The WhatsApp simulator as `make run` starts it (no callback yet: hi tells it where to post)."""
    server = WhatsAppSimulator().start()
    yield server
    server.stop()


def setup_demo(url: str) -> str:
    """Run `hi_setup --demo` against the simulator at `url`; return what it printed."""
    out = io.StringIO()
    call_command("hi_setup", "--demo", "--demo-url", f"ifood={url}", stdout=out)
    return out.getvalue()


def demo_integrations():
    """The iFood integrations of the default workspace."""
    return Integration.objects.filter(workspace__slug="default", integration_type=IntegrationType.IFOOD.type_id)


def test_demo_adds_an_active_ifood_integration_polling_the_simulator(ifood_sim):
    # When hi_setup runs with --demo while the simulator is up
    output = setup_demo(ifood_sim.url)

    # Then the default workspace has one active iFood integration on the simulator's credential and merchants
    integration = demo_integrations().get()
    assert integration.name == "iFood (demo)"
    assert integration.unique_id == DEFAULT_CLIENT_ID
    assert integration.state == IntegrationState.ACTIVE
    values = attribute_values(integration)
    assert values["client_id"] == DEFAULT_CLIENT_ID and values["client_secret"] == DEFAULT_CLIENT_SECRET
    assert values["merchant_ids"] == ",".join(DEFAULT_MERCHANTS)
    assert values["api_base_url"] == ifood_sim.url and values["event_mode"] == "polling"
    assert "Added “iFood (demo)”" in output and DEFAULT_CLIENT_SECRET not in output
    # And it was added through the live connection test: the simulator issued a token and was asked for each merchant
    paths = [r.path for r in ifood_sim.requests]
    assert "/authentication/v1.0/oauth/token" in paths
    assert all(f"/merchant/v1.0/merchants/{m}/status" in paths for m in DEFAULT_MERCHANTS)


def test_running_it_again_adds_nothing_and_leaves_a_deactivated_demo_deactivated(ifood_sim):
    # Given the demo added, then deactivated by the operator
    setup_demo(ifood_sim.url)
    lifecycle.deactivate(demo_integrations().get(), "olivia")

    # When hi_setup --demo runs again (every `make run` does)
    output = setup_demo(ifood_sim.url)

    # Then there is still one, still disabled
    integration = demo_integrations().get()
    assert integration.state == IntegrationState.DISABLED
    assert "left as it is" in output


def test_a_removed_demo_is_not_added_again(ifood_sim, tmp_path):
    # Given the demo added, then removed by the operator
    setup_demo(ifood_sim.url)
    lifecycle.remove(demo_integrations().get(), "olivia")

    # When hi_setup --demo runs again
    output = setup_demo(ifood_sim.url)

    # Then it does not come back, and the output says how to get it back
    assert not demo_integrations().exists()
    assert "removed; not adding it again" in output and str(tmp_path / "demo_seeded.json") in output


def test_a_recreated_database_gets_the_demo_again(ifood_sim):
    # Given the demo added once, then the whole database started afresh (the workspace is created anew)
    setup_demo(ifood_sim.url)
    Workspace.objects.all().delete()

    # When hi_setup --demo runs
    setup_demo(ifood_sim.url)

    # Then the new default workspace has the demo
    assert demo_integrations().get().state == IntegrationState.ACTIVE


def test_demo_off_adds_nothing_and_calls_no_simulator(ifood_sim, monkeypatch):
    # Given HI_DEMO=0
    monkeypatch.setenv("HI_DEMO", "0")

    # When hi_setup --demo runs
    output = setup_demo(ifood_sim.url)

    # Then the usual set-up happened, but no integration was added and the simulator was never called
    assert Workspace.objects.filter(slug="default").exists()
    assert not Integration.objects.exists()
    assert ifood_sim.requests == []
    assert "HI_DEMO is off" in output


def test_without_demo_flag_nothing_is_added(ifood_sim):
    # When plain hi_setup runs (`make setup`), with the demo on
    call_command("hi_setup", stdout=io.StringIO())

    # Then no integration is added
    assert not Integration.objects.exists() and ifood_sim.requests == []


def test_an_unreachable_simulator_fails_clearly_and_saves_nothing(ifood_sim, tmp_path):
    # Given a simulator that is not running
    url = ifood_sim.url
    ifood_sim.stop()

    # When hi_setup --demo runs, then it fails with the connection test's reason and saves nothing
    with pytest.raises(CommandError, match="The iFood demo integration was not added .*Could not connect"):
        setup_demo(url)
    assert not Integration.objects.exists()
    assert not (tmp_path / "demo_seeded.json").exists()
    # And the rest of the set-up was done
    assert Workspace.objects.filter(slug="default").exists()


def test_without_urls_every_demo_is_added_at_its_simulator_s_port_in_the_registry_s_order(ifood_sim, whatsapp_sim, monkeypatch):
    # Given both simulators where make run's port variables say they are
    monkeypatch.setenv("HI_IFOOD_DEMO_PORT", str(ifood_sim.port))
    monkeypatch.setenv("HI_WHATSAPP_DEMO_PORT", str(whatsapp_sim.port))
    out = io.StringIO()

    # When hi_setup --demo runs as make run runs it, naming no service
    call_command("hi_setup", "--demo", stdout=out)

    # Then iFood's demo is added, then WhatsApp's (which notifies iFood's orders), each active on its simulator
    output = out.getvalue()
    assert output.index("Added “iFood (demo)”") < output.index("Added “WhatsApp (demo)”")
    added = Integration.objects.filter(workspace__slug="default").order_by("created_at")
    assert [(i.integration_type, i.state) for i in added] == [("ifood", IntegrationState.ACTIVE), ("whatsapp", IntegrationState.ACTIVE)]
    assert attribute_values(added[1])["api_base_url"] == whatsapp_sim.url
    # And the WhatsApp simulator was told where hi receives its notifications, with the verify token hi generated
    assert "/hooks/" in whatsapp_sim.callback_url and whatsapp_sim.verify_token == attribute_values(added[1])["verify_token"]


def test_an_existing_demo_is_left_as_it_is_and_its_restarted_simulator_is_told_again(whatsapp_sim):
    # Given the WhatsApp demo added, then its simulator restarted (it forgets where hi listens)
    call_command("hi_setup", "--demo", "--demo-url", f"whatsapp={whatsapp_sim.url}", stdout=io.StringIO())
    restarted = WhatsAppSimulator().start()
    try:
        out = io.StringIO()
        # When make run runs hi_setup --demo again
        call_command("hi_setup", "--demo", "--demo-url", f"whatsapp={restarted.url}", stdout=out)
        # Then the integration is the same one, and the new simulator posts to it
        integration = Integration.objects.get(integration_type="whatsapp")
        assert "“WhatsApp (demo)” exists (Active); left as it is" in out.getvalue()
        assert restarted.callback_url == whatsapp_sim.callback_url and "/hooks/" in restarted.callback_url
        assert restarted.verify_token == attribute_values(integration)["verify_token"]
    finally:
        restarted.stop()


def test_a_demo_that_fails_does_not_keep_the_next_from_being_added_and_the_failure_is_said(ifood_sim, whatsapp_sim, tmp_path):
    # Given the iFood simulator down and WhatsApp's up
    url = ifood_sim.url
    ifood_sim.stop()

    # When hi_setup --demo adds both, then it fails with iFood's reason
    with pytest.raises(CommandError, match="The iFood demo integration was not added .*Could not connect"):
        call_command("hi_setup", "--demo", "--demo-url", f"ifood={url}", "--demo-url", f"whatsapp={whatsapp_sim.url}", stdout=io.StringIO())

    # And WhatsApp's was added all the same; only it is remembered
    assert [i.integration_type for i in Integration.objects.all()] == ["whatsapp"]
    assert "ifood:" not in (tmp_path / "demo_seeded.json").read_text()


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("nope=http://127.0.0.1:9", "'nope' is no integration type"),
        ("webhook=http://127.0.0.1:9", "Webhooks offers no demo integration"),
        ("demo=http://127.0.0.1:9", "Demo provider offers no demo integration"),
        ("ifood", "give TYPE=URL"),
    ],
)
def test_a_demo_url_hi_cannot_use_is_refused_and_adds_nothing(given, reason, ifood_sim):
    # When hi_setup --demo is given a --demo-url it cannot follow, then it says why and adds nothing
    with pytest.raises(CommandError, match=reason):
        call_command("hi_setup", "--demo", "--demo-url", given, stdout=io.StringIO())
    assert not Integration.objects.exists() and ifood_sim.requests == []
