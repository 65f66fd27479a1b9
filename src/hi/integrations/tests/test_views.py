"""The console: add flow with its error codes, manage actions, editor, re-auth, remove, htmx regions."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from hi.conftest import demo_attributes
from hi.integrations.engine.execution import claim, execute
from hi.integrations.models import Directive, Integration, IntegrationState

pytestmark = pytest.mark.django_db
S = IntegrationState


def add_form(sim, **overrides) -> dict:
    """POST data of the add form."""
    data = {"name": "", **demo_attributes(sim)}
    data["sync_on_activate"] = "on"
    data.update(overrides)
    return data


def form_error(response) -> str:
    """The form-level error text of a page."""
    return response.content.decode()


def test_empty_dashboard_leads_to_add(operator_client):
    page = operator_client.get("/").content.decode()
    assert "No integrations yet" in page and reverse("integration-add") in page


def test_type_search_filters_and_htmx_gets_only_the_list(operator_client):
    assert "Demo provider" in operator_client.get(reverse("integration-add"), {"q": "simulated"}).content.decode()
    partial = operator_client.get(reverse("integration-add"), {"q": "nothing-like-this"}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "No service matches" in text and "<html" not in text


@pytest.mark.parametrize(
    "setup_sim,overrides,code,message",
    [
        (lambda sim: setattr(sim.faults, "status", 503), {}, "cannot_connect", "Could not connect to the provider."),
        (lambda sim: None, {"api_key": "wrong"}, "invalid_auth", "The provider refused these credentials."),
        (lambda sim: sim.route("GET", "/api/v1/account", lambda r: (200, {}, b"{}")), {}, "unknown", "Unexpected error"),
    ],
)
def test_a_failing_connection_test_is_shown_and_saves_nothing(operator_client, sim, setup_sim, overrides, code, message):
    setup_sim(sim)
    response = operator_client.post(reverse("integration-add-configure", args=["demo"]), add_form(sim, **overrides))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-error-code="{code}"' in page and message in page
    assert not Integration.objects.exists()


def test_invalid_values_are_shown_next_to_their_field(operator_client, sim):
    response = operator_client.post(reverse("integration-add-configure", args=["demo"]), add_form(sim, api_url="ftp://x", page_size="0"))
    page = response.content.decode()
    assert "must be an http:// or https:// URL" in page and "must be at least 1" in page
    assert sim.requests == [] and not Integration.objects.exists()


def test_adding_tests_saves_activates_and_refuses_the_same_account(operator_client, sim):
    response = operator_client.post(reverse("integration-add-configure", args=["demo"]), add_form(sim), follow=True)
    integration = Integration.objects.get()
    assert response.redirect_chain[-1][0] == integration.get_absolute_url()
    assert integration.state == S.ACTIVE and integration.name == "Demo Store" and integration.unique_id == "acct-demo"
    again = operator_client.post(reverse("integration-add-configure", args=["demo"]), add_form(sim, name="Again"))
    assert 'data-error-code="already_configured"' in again.content.decode()
    assert Integration.objects.count() == 1
    other = operator_client.post(reverse("integration-add-configure", args=["demo"]), add_form(sim, api_key="demo-key-2"))
    assert other.status_code == 302 and Integration.objects.count() == 2


@pytest.mark.parametrize(
    "action,start,end",
    [("pause", S.ACTIVE, S.PAUSED), ("deactivate", S.ACTIVE, S.DISABLED)],
)
def test_actions_change_state(operator_client, demo, action, start, end):
    assert demo.state == start
    response = operator_client.post(reverse("integration-action", args=[demo.pk, action]), follow=True)
    demo.refresh_from_db()
    assert demo.state == end
    assert response.status_code == 200


def test_pause_then_resume_and_an_illegal_action_is_a_message_not_a_500(operator_client, demo):
    operator_client.post(reverse("integration-action", args=[demo.pk, "pause"]))
    response = operator_client.post(reverse("integration-action", args=[demo.pk, "pause"]), follow=True)
    assert "cannot move to “Paused”" in response.content.decode()
    operator_client.post(reverse("integration-action", args=[demo.pk, "resume"]))
    demo.refresh_from_db()
    assert demo.state == S.ACTIVE


def test_activate_retries_by_hand_from_setup_retry(operator_client, demo, sim):
    operator_client.post(reverse("integration-action", args=[demo.pk, "deactivate"]))
    sim.faults.status = 503
    page = operator_client.post(reverse("integration-action", args=[demo.pk, "activate"]), follow=True).content.decode()
    demo.refresh_from_db()
    assert demo.state == S.SETUP_RETRY and "The worker tries again at" in page and "Retry activation now" in page
    sim.faults.status = None
    operator_client.post(reverse("integration-action", args=[demo.pk, "activate"]))
    demo.refresh_from_db()
    assert demo.state == S.ACTIVE


def test_test_connection_and_sync_report_their_outcome(operator_client, demo, sim):
    page = operator_client.post(reverse("integration-action", args=[demo.pk, "test"]), follow=True).content.decode()
    assert "Connection test passed" in page
    sim.items.append({"id": "SKU-9", "name": "New", "kind": "product", "status": "active"})
    page = operator_client.post(reverse("integration-action", args=[demo.pk, "sync"]), follow=True).content.decode()
    assert "Sync queued" in page and not demo.entities.filter(external_id="sku-9").exists()
    again = operator_client.post(reverse("integration-action", args=[demo.pk, "sync"]), follow=True).content.decode()
    assert again.count("Sync queued (directive #") == 1 and Directive.objects.filter(topic="hi.sync_entities").count() == 1
    for directive in claim("w", 10):  # the worker's pass
        execute(directive, "w")
    assert demo.entities.filter(external_id="sku-9").exists()
    assert "Synced: 1 created" in operator_client.get(demo.get_absolute_url()).content.decode()
    sim.faults.status = 503
    page = operator_client.post(reverse("integration-action", args=[demo.pk, "test"]), follow=True).content.decode()
    assert "Connection test failed (cannot_connect)" in page


def test_unknown_action_is_404_and_get_is_405(operator_client, demo):
    assert operator_client.post(reverse("integration-action", args=[demo.pk, "explode"])).status_code == 404
    assert operator_client.get(reverse("integration-action", args=[demo.pk, "pause"])).status_code == 405


def test_reconfigure_keeps_a_blank_secret_and_reloads(operator_client, demo, sim):
    data = {"name": "Renamed", "api_url": sim.url, "api_key": "", "catalog": "all", "page_size": "50", "sync_on_activate": "on"}
    response = operator_client.post(reverse("integration-configure", args=[demo.pk]), data)
    assert response.status_code == 302
    demo.refresh_from_db()
    assert demo.name == "Renamed" and demo.state == S.ACTIVE and demo.entities.count() == 4
    assert demo.attribute_changes.filter(key="catalog", old_value="active", new_value="all").exists()


def test_reconfigure_refuses_another_account(operator_client, demo, sim):
    data = {"name": "X", "api_url": sim.url, "api_key": "demo-key-2", "catalog": "active", "page_size": "5"}
    page = operator_client.post(reverse("integration-configure", args=[demo.pk]), data).content.decode()
    assert 'data-error-code="wrong_account"' in page
    assert demo.attribute_changes.filter(key="page_size").count() == 1


def test_reauthenticate_recovers_auth_failed_without_a_second_integration(operator_client, demo, sim):
    operator_client.post(reverse("integration-action", args=[demo.pk, "deactivate"]))
    sim.accounts["rotated-key"] = sim.accounts.pop("demo-key")
    operator_client.post(reverse("integration-action", args=[demo.pk, "activate"]))
    demo.refresh_from_db()
    assert demo.state == S.AUTH_FAILED
    form = operator_client.get(reverse("integration-reauth", args=[demo.pk])).content.decode()
    assert 'name="api_key"' in form and 'name="catalog"' not in form
    operator_client.post(reverse("integration-reauth", args=[demo.pk]), {"api_key": "rotated-key"})
    demo.refresh_from_db()
    assert demo.state == S.ACTIVE and Integration.objects.count() == 1


def test_remove_asks_what_to_do_with_entities(operator_client, demo):
    page = operator_client.get(reverse("integration-remove", args=[demo.pk])).content.decode()
    assert "Linked entities" in page
    response = operator_client.post(reverse("integration-remove", args=[demo.pk]), {"entities": "delete"})
    assert response.status_code == 302 and not Integration.objects.exists()


def test_renaming_an_entity_marks_it_edited(operator_client, demo):
    entity = demo.entities.first()
    operator_client.post(reverse("integration-entity-rename", args=[demo.pk, entity.pk]), {"name": "Ours"})
    entity.refresh_from_db()
    assert entity.name == "Ours" and entity.operator_edited


def test_htmx_regions_render_without_the_layout(operator_client, demo):
    cards = operator_client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="cards"' in cards and "<html" not in cards and demo.name in cards
    state = operator_client.get(demo.get_absolute_url(), {"region": "state"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="state"' in state and "<html" not in state and 'data-state="active"' in state


def test_diagnostics_download(operator_client, demo):
    response = operator_client.get(reverse("integration-diagnostics", args=[demo.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    document = json.loads(response.content)
    assert document["integration"]["state"] == "active"
    assert document["attributes"]["api_key"] == "**REDACTED**"
    assert document["state_history"] and document["versions"]["django"].startswith("5.2")


def test_an_undecryptable_secret_explains_itself_and_never_500s(operator_client, demo, caplog):
    # Simulates a key removed from HI_ENCRYPTION_KEYS before rotation: the stored token is foreign.
    from cryptography.fernet import Fernet

    demo.attributes.filter(key="api_key").update(value=Fernet(Fernet.generate_key()).encrypt(b"x").decode())
    page = operator_client.get(demo.get_absolute_url())
    assert page.status_code == 200
    assert "pane could not be shown" in page.content.decode()
    assert any("pane of" in r.getMessage() for r in caplog.records)
    diagnostics = operator_client.get(reverse("integration-diagnostics", args=[demo.pk]))
    assert diagnostics.status_code == 200 and json.loads(diagnostics.content)["attributes"]["api_key"] == "**REDACTED**"
    test = operator_client.post(reverse("integration-action", args=[demo.pk, "test"]))
    assert test.status_code == 503 and "HI_ENCRYPTION_KEYS" in test.content.decode()
    editor = operator_client.get(reverse("integration-configure", args=[demo.pk]))
    assert editor.status_code == 200


def test_reauthenticating_an_active_integration_with_the_same_key_does_not_reload(operator_client, demo):
    before = demo.state_changes.count()
    operator_client.post(reverse("integration-reauth", args=[demo.pk]), {"api_key": "demo-key"})
    demo.refresh_from_db()
    assert demo.state == S.ACTIVE and demo.state_changes.count() == before


def test_reauthenticating_a_paused_integration_leaves_it_paused(operator_client, demo, sim):
    operator_client.post(reverse("integration-action", args=[demo.pk, "pause"]))
    sim.accounts["new-key"] = sim.accounts["demo-key"]
    operator_client.post(reverse("integration-reauth", args=[demo.pk]), {"api_key": "new-key"})
    demo.refresh_from_db()
    assert demo.state == S.PAUSED
    assert demo.attribute_changes.filter(key="api_key").count() == 2


def test_remove_during_an_outage_explains_and_can_be_forced(operator_client, demo, sim):
    sim.faults.status = 503
    page = operator_client.post(reverse("integration-remove", args=[demo.pk]), {"entities": "keep"}).content.decode()
    assert "was not removed: deactivation failed" in page and Integration.objects.filter(pk=demo.pk).exists()
    operator_client.post(reverse("integration-remove", args=[demo.pk]), {"entities": "keep", "force": "on"})
    assert not Integration.objects.filter(pk=demo.pk).exists()


def test_the_manage_page_shows_the_call_log_without_secrets(operator_client, demo):
    page = operator_client.get(demo.get_absolute_url()).content.decode()
    assert "Provider calls" in page and "/api/v1/account" in page  # activation's calls
    assert "demo-key" not in page.split('id="calls-title"')[1].split("</section>")[0]
