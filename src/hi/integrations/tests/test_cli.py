"""Tests of `manage.py integration`, against the demo simulator on 127.0.0.1."""
from __future__ import annotations

import io
import json
import uuid
from typing import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hi.integrations.config.store import attribute_values
from hi.integrations.models import AttributeChange, Entity, Integration, IntegrationAttribute, StateChange
from hi.services.demo.simulator import DemoSimulator
from hi.workspaces.models import Workspace

SUMMARY_KEYS = {"id", "type", "name", "state", "reason", "unique_id", "receive_url", "health", "problems"}


@pytest.fixture
def workspace(db) -> Workspace:
    """The default workspace the CLI uses when --workspace is not given."""
    return Workspace.objects.create(slug="default", name="Default")


@pytest.fixture
def sim() -> Iterator[DemoSimulator]:
    """A running demo provider, stopped after the test."""
    server = DemoSimulator().start()
    yield server
    server.stop()


def run(*args: str) -> str:
    """Run `manage.py integration <args>` and return what it printed."""
    out = io.StringIO()
    call_command("integration", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def add_demo(sim: DemoSimulator, *extra: str, key: str = "demo-key", name: str = "Shop") -> dict:
    """Add a demo integration through the CLI and return its JSON summary."""
    output = run("add", "demo", "--name", name, "--set", f"api_url={sim.url}", "--set", f"api_key={key}", "--json", *extra)
    return json.loads(output)


# add ---------------------------------------------------------------------------------------------
def test_add_json_prints_the_summary_of_an_active_integration(workspace, sim):
    """Given a reachable provider and a valid key, when added with --json, then one active summary is printed."""
    summary = add_demo(sim)

    assert set(summary) == SUMMARY_KEYS
    assert summary["type"] == "demo"
    assert summary["name"] == "Shop"
    assert summary["state"] == "active"
    assert summary["unique_id"] == "acct-demo"
    assert summary["receive_url"] is None  # the demo type receives no webhooks
    integration = Integration.objects.get(pk=uuid.UUID(summary["id"]))
    assert integration.workspace == workspace
    assert set(StateChange.objects.filter(integration=integration).values_list("actor", flat=True)) == {"cli"}


def test_add_without_json_prints_a_line_without_the_secret(workspace, sim):
    """Given valid values, when added without --json, then a human line names the state and hides the key."""
    output = run("add", "demo", "--name", "Shop", "--set", f"api_url={sim.url}", "--set", "api_key=demo-key")

    assert "Shop" in output and "active" in output
    assert "demo-key" not in output


def test_add_stores_the_api_key_encrypted(workspace, sim):
    """Given an added integration, when its rows are read, then the key is stored as a token, not in clear."""
    summary = add_demo(sim)

    row = IntegrationAttribute.objects.get(integration_id=summary["id"], key="api_key")
    assert row.is_secret and row.value and "demo-key" not in row.value


def test_add_twice_is_refused_as_already_configured(workspace, sim):
    """Given an account already configured, when added again, then the command fails and nothing is added."""
    add_demo(sim)

    with pytest.raises(CommandError, match=r"^already_configured: "):
        add_demo(sim, name="Again")
    assert Integration.objects.count() == 1


def test_add_with_a_refused_key_saves_nothing(workspace, sim):
    """Given a key the provider refuses, when added, then invalid_auth is reported and nothing is saved."""
    with pytest.raises(CommandError) as error:
        add_demo(sim, key="wrong-secret-key")

    assert str(error.value).startswith("invalid_auth: The provider refused these credentials.")
    assert "wrong-secret-key" not in str(error.value)
    assert Integration.objects.count() == 0
    assert IntegrationAttribute.objects.count() == 0


def test_add_with_an_unreachable_provider_is_cannot_connect(workspace):
    """Given nothing listening at the URL, when added, then cannot_connect is reported and nothing saved."""
    gone = DemoSimulator().start()
    gone.stop()

    with pytest.raises(CommandError, match=r"^cannot_connect: Could not connect to the provider\."):
        add_demo(gone)
    assert Integration.objects.count() == 0


def test_add_during_a_provider_outage_is_cannot_connect(workspace, sim):
    """Given a provider answering 503, when added, then cannot_connect is reported and nothing saved."""
    sim.faults.status = 503

    with pytest.raises(CommandError, match=r"^cannot_connect: "):
        add_demo(sim)
    assert Integration.objects.count() == 0


def test_add_with_an_invalid_url_reports_the_field(workspace):
    """Given a URL that is not http(s), when added, then the field error is reported on one line."""
    with pytest.raises(CommandError) as error:
        run("add", "demo", "--name", "X", "--set", "api_url=ftp://example.com", "--set", "api_key=demo-key")

    assert str(error.value) == "invalid: api_url: API URL must be an http:// or https:// URL."
    assert Integration.objects.count() == 0


def test_add_with_a_malformed_set_is_refused(workspace, sim):
    """Given --set without '=', when added, then the command fails before contacting the provider."""
    with pytest.raises(CommandError, match="--set expects attribute=value"):
        run("add", "demo", "--name", "X", "--set", "api_key")

    assert sim.requests == []
    assert Integration.objects.count() == 0


def test_add_with_an_unknown_attribute_is_refused(workspace, sim):
    """Given a misspelt attribute, when added, then invalid names it and nothing is saved."""
    with pytest.raises(CommandError, match=r"^invalid: .*api_ky: Unknown attribute"):
        add_demo(sim, "--set", "api_ky=demo-key")

    assert Integration.objects.count() == 0


def test_add_to_an_unknown_workspace_is_refused(workspace, sim):
    """Given a workspace slug that does not exist, when added, then the command fails and saves nothing."""
    with pytest.raises(CommandError, match="No workspace nope"):
        add_demo(sim, "--workspace", "nope")

    assert Integration.objects.count() == 0


def test_add_of_an_unknown_type_lists_the_valid_types(workspace):
    """Given a type id that does not exist, when added, then the valid ids are listed."""
    with pytest.raises(CommandError, match=r"Unknown integration type 'nope'; valid types: .*demo"):
        run("add", "nope", "--name", "X")


def test_add_that_fails_to_activate_exits_non_zero_with_the_state(workspace, sim):
    """Given a provider whose item listing is gone, when added, then it is saved but the exit names setup_error."""
    del sim.routes[("GET", "/api/v1/items")]  # the activation's sync now gets a 404
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"is setup_error: "):
        call_command(
            "integration", "add", "demo", "--set", f"api_url={sim.url}", "--set", "api_key=demo-key", "--json",
            stdout=out, stderr=io.StringIO(),
        )
    assert json.loads(out.getvalue())["state"] == "setup_error"
    assert Integration.objects.get().state == "setup_error"


# list --------------------------------------------------------------------------------------------
def test_list_json_prints_every_integration_of_the_workspace(workspace, sim):
    """Given two integrations, when listed with --json, then both summaries are printed, and none elsewhere."""
    first = add_demo(sim, name="A")
    second = add_demo(sim, key="demo-key-2", name="B")
    Workspace.objects.create(slug="other", name="Other")

    listed = json.loads(run("list", "--json"))
    elsewhere = json.loads(run("list", "--json", "--workspace", "other"))

    assert [item["id"] for item in listed] == [first["id"], second["id"]]
    assert all(set(item) == SUMMARY_KEYS for item in listed)
    assert elsewhere == []


def test_list_prints_a_table(workspace, sim):
    """Given an integration, when listed without --json, then a table row shows its id, name and state."""
    summary = add_demo(sim)

    output = run("list")

    assert output.splitlines()[0].split() == ["id", "type", "name", "state", "health", "unique_id"]
    assert summary["id"] in output and "Shop" in output and "active" in output and summary["health"] == "ok"


# configure ---------------------------------------------------------------------------------------
def test_configure_changes_the_catalog_and_keeps_a_blank_secret(workspace, sim):
    """Given an active integration, when the catalog is changed with a blank key, then it is stored and the key kept."""
    summary = add_demo(sim)
    integration = Integration.objects.get(pk=summary["id"])

    output = run("configure", summary["id"], "--set", "catalog=all", "--set", "api_key=", "--name", "Shop 2")

    integration.refresh_from_db()
    values = attribute_values(integration)
    assert values["catalog"] == "all"
    assert values["api_key"] == "demo-key"
    assert integration.name == "Shop 2"
    assert integration.state == "active"
    assert "configured" in output
    change = AttributeChange.objects.filter(integration=integration, key="catalog").first()  # newest first
    assert (change.old_value, change.new_value, change.actor) == ("active", "all", "cli")


def test_configure_with_another_accounts_key_is_wrong_account(workspace, sim):
    """Given an integration of acct-demo, when given acct-second's key, then wrong_account and nothing changes."""
    summary = add_demo(sim)
    integration = Integration.objects.get(pk=summary["id"])

    with pytest.raises(CommandError, match=r"^wrong_account: "):
        run("configure", summary["id"], "--set", "api_key=demo-key-2")
    assert attribute_values(integration)["api_key"] == "demo-key"


def test_configure_with_nothing_to_change_is_refused(workspace, sim):
    """Given no --set and no --name, when configured, then the command says there is nothing to change."""
    summary = add_demo(sim)

    with pytest.raises(CommandError, match="Nothing to change"):
        run("configure", summary["id"])


# lifecycle ---------------------------------------------------------------------------------------
def test_pause_resume_deactivate_activate(workspace, sim):
    """Given an active integration, when paused, resumed, deactivated and activated, then each state is reached."""
    ident = add_demo(sim)["id"]

    states = []
    for action in ("pause", "resume", "deactivate", "activate"):
        states.append(json.loads(run(action, ident, "--json"))["state"])

    assert states == ["paused", "active", "disabled", "active"]
    assert Integration.objects.get(pk=ident).state == "active"
    assert set(StateChange.objects.filter(integration_id=ident).values_list("actor", flat=True)) == {"cli"}


def test_an_illegal_transition_is_a_one_line_error(workspace, sim):
    """Given a disabled integration, when paused, then the command fails and the state is unchanged."""
    ident = add_demo(sim)["id"]
    run("deactivate", ident)

    with pytest.raises(CommandError, match="cannot move to “Paused”"):
        run("pause", ident)
    assert Integration.objects.get(pk=ident).state == "disabled"


def test_activate_during_an_outage_exits_non_zero_with_state_and_reason(workspace, sim):
    """Given a disabled integration and a provider answering 503, when activated, then setup_retry is reported."""
    ident = add_demo(sim)["id"]
    run("deactivate", ident)
    sim.faults.status = 503

    with pytest.raises(CommandError, match=r"is setup_retry: .*HTTP 503"):
        run("activate", ident)
    assert Integration.objects.get(pk=ident).state == "setup_retry"



def test_deactivate_that_fails_at_the_provider_exits_non_zero(workspace, sim):
    """Given a provider answering 503, when deactivated, then failed_deactivate is reported with its reason."""
    ident = add_demo(sim)["id"]
    sim.faults.status = 503

    with pytest.raises(CommandError, match=r"is failed_deactivate: .*HTTP 503"):
        run("deactivate", ident)
    assert Integration.objects.get(pk=ident).state == "failed_deactivate"

# test, sync, remove, diagnostics -----------------------------------------------------------------
def test_test_reports_the_account_and_then_a_refusal(workspace, sim):
    """Given an integration, when tested, then the account is printed; once the key is revoked, invalid_auth."""
    ident = add_demo(sim)["id"]

    assert "Connection test passed: account acct-demo." in run("test", ident)
    sim.faults.status = 401
    with pytest.raises(CommandError, match=r"^invalid_auth: "):
        run("test", ident)


def test_sync_creates_the_providers_items_as_entities(workspace, sim):
    """Given an integration that does not sync on activation, when synced, then the active items become entities."""
    ident = add_demo(sim, "--set", "sync_on_activate=false")["id"]
    assert Entity.objects.count() == 0

    output = run("sync", ident)

    assert "3 created" in output
    assert sorted(Entity.objects.filter(integration_id=ident).values_list("external_id", flat=True)) == [
        "sku-001",
        "sku-002",
        "sku-003",
    ]


def test_sync_of_a_paused_integration_is_refused(workspace, sim):
    """Given a paused integration, when synced, then the command fails and nothing is fetched."""
    ident = add_demo(sim, "--set", "sync_on_activate=false")["id"]
    run("pause", ident)

    with pytest.raises(CommandError, match="Only an active integration can sync"):
        run("sync", ident)
    assert Entity.objects.count() == 0


def test_remove_deletes_the_integration_and_its_entities(workspace, sim):
    """Given an active integration with entities, when removed, then it and its entities are gone."""
    ident = add_demo(sim)["id"]
    assert Entity.objects.count() == 3

    output = run("remove", ident, "--delete-entities")

    assert "3 entities deleted" in output
    assert not Integration.objects.filter(pk=ident).exists()
    assert Entity.objects.count() == 0


def test_diagnostics_redact_the_api_key(workspace, sim):
    """Given an integration, when its diagnostics are printed, then the key is redacted everywhere."""
    ident = add_demo(sim)["id"]

    output = run("diagnostics", ident)

    document = json.loads(output)
    assert document["integration"]["id"] == ident
    assert document["attributes"]["api_key"] == "**REDACTED**"
    assert "**REDACTED**" in output
    assert "demo-key" not in output
    assert output.startswith("{\n  ")  # indented for reading


@pytest.mark.parametrize("ident", ["not-a-uuid", "3f2c5a1e-0000-4000-8000-000000000001"])
def test_an_unknown_id_is_refused(workspace, ident):
    """Given an id that is malformed or unknown, when acted on, then the command names it and the workspace."""
    with pytest.raises(CommandError, match=f"No integration {ident} in workspace default."):
        run("activate", ident)


def test_another_workspaces_integration_is_not_found(workspace, sim):
    """Given an integration of another workspace, when acted on in default, then it is not found and untouched."""
    Workspace.objects.create(slug="other", name="Other")
    ident = add_demo(sim, "--workspace", "other")["id"]

    with pytest.raises(CommandError, match=f"No integration {ident} in workspace default."):
        run("deactivate", ident)
    assert Integration.objects.get(pk=ident).state == "active"
    assert json.loads(run("deactivate", ident, "--workspace", "other", "--json"))["state"] == "disabled"


def test_remove_during_an_outage_needs_force(workspace, sim):
    """Given a provider that cannot be told, when removed, then it is kept unless --force is given."""
    ident = add_demo(sim)["id"]
    sim.faults.status = 503

    with pytest.raises(CommandError, match="was not removed: deactivation failed"):
        run("remove", ident)
    assert Integration.objects.filter(pk=ident).exists()

    run("remove", ident, "--force")
    assert not Integration.objects.filter(pk=ident).exists()
