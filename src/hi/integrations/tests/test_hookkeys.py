"""Receive URLs carry a random key of their own, stored only hashed and encrypted, rotatable from the console and the CLI."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hi.integrations.config import hookkeys
from hi.integrations.config.hookkeys import receive_path
from hi.integrations.config.store import save_attributes
from hi.integrations.console.summary import receive_url
from hi.integrations.models import HookKey, InboundEvent, Integration, IntegrationLog
from hi.integrations.testing.inbound import post_as_provider

pytestmark = pytest.mark.django_db
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def endpoint(workspace, name: str = "n8n") -> Integration:
    """An active webhook endpoint (a type that receives webhooks)."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name=name, unique_id=f"https://{name}.example.com/hook", state="active"
    )
    save_attributes(integration, {"url": f"https://{name}.example.com/hook", "secret": SECRET}, actor="test")
    return integration


def post(path: str):
    """An unsigned post: 401 when the path reaches the integration, 404 when it does not."""
    return post_as_provider(path, b'{"type": "x"}')


def test_each_integration_gets_its_own_random_key_not_derived_from_its_id_and_never_stored_in_clear(workspace):
    # when
    first, second = endpoint(workspace), endpoint(workspace, "zapier")
    # then: 192 random bits each, unrelated to the ids
    keys = [hookkeys.current_key(first), hookkeys.current_key(second)]
    assert keys[0] != keys[1] and all(len(key) == 32 for key in keys)
    for integration, key in zip((first, second), keys, strict=True):
        assert str(integration.pk) not in key and integration.pk.hex not in key
        assert receive_url(integration).endswith(f"/hooks/{key}/") and str(integration.pk) not in receive_url(integration)
    # and no column holds a key in clear
    for row in HookKey.objects.values("digest", "encrypted"):
        assert not any(key in value for key in keys for value in row.values())


def test_the_key_is_the_only_way_in_and_the_integration_id_is_404(workspace):
    # given
    integration = endpoint(workspace)
    # when
    by_key, by_id = post(receive_path(integration)), post(f"/hooks/{integration.pk}/")
    # then
    assert (by_key.status_code, by_id.status_code) == (401, 404)
    assert InboundEvent.objects.filter(integration=integration).count() == 1


def test_a_rotation_keeps_the_old_url_working_during_the_overlap_only(workspace):
    # given
    integration = endpoint(workspace)
    old_path = receive_path(integration)
    # when
    hookkeys.rotate(integration, "olivia", overlap=timedelta(seconds=1))
    new_path = receive_path(integration)
    # then both work now, and the old one stops after the overlap
    assert new_path != old_path
    assert (post(old_path).status_code, post(new_path).status_code) == (401, 401)
    time.sleep(1.1)
    assert (post(old_path).status_code, post(new_path).status_code) == (404, 401)
    assert hookkeys.prune() == 1 and HookKey.objects.filter(integration=integration).count() == 1
    assert "olivia rotated the receive URL" in IntegrationLog.objects.get(integration=integration).message


def test_a_rotation_at_once_stops_the_old_url_immediately(workspace):
    integration = endpoint(workspace)
    old_path = receive_path(integration)
    hookkeys.rotate(integration, "olivia", overlap=timedelta(0))
    assert (post(old_path).status_code, post(receive_path(integration)).status_code) == (404, 401)


def test_an_operator_rotates_from_the_console_after_a_confirmation_naming_the_provider(operator_client, workspace):
    # given
    integration = endpoint(workspace)
    old_path = receive_path(integration)
    page = operator_client.get(integration.get_absolute_url()).content.decode()
    assert old_path in page and "New receive URL" in page
    # when the operator opens the confirmation
    confirm = operator_client.get(f"/integrations/{integration.pk}/receive-url/rotate/")
    # then it says the provider must be given the new URL, and nothing changed yet
    assert confirm.status_code == 200 and "provider must then be given the new URL" in confirm.content.decode()
    assert receive_path(integration) == old_path
    # when they confirm, stopping the old URL at once
    response = operator_client.post(f"/integrations/{integration.pk}/receive-url/rotate/", {"at_once": "on"}, follow=True)
    # then the manage page shows the new URL, and the old one is refused
    body = response.content.decode()
    assert receive_path(integration) != old_path and receive_path(integration) in body and old_path not in body
    assert "give it to the provider" in body and post(old_path).status_code == 404


def test_confirming_without_ticking_keeps_the_old_url_for_the_overlap(operator_client, workspace):
    # given
    integration = endpoint(workspace)
    old_path = receive_path(integration)
    # when the operator confirms, leaving "stop at once" unticked
    response = operator_client.post(f"/integrations/{integration.pk}/receive-url/rotate/")
    # then a new URL is issued and the old one still works for now
    assert response.status_code == 302 and receive_path(integration) != old_path
    assert post(old_path).status_code == 401 and hookkeys.retired_until(integration) is not None


def test_a_viewer_cannot_rotate(viewer_client, workspace):
    integration = endpoint(workspace)
    old_path = receive_path(integration)
    assert viewer_client.post(f"/integrations/{integration.pk}/receive-url/rotate/").status_code == 403
    assert receive_path(integration) == old_path


def test_a_type_without_webhooks_has_no_receive_url_to_rotate(operator_client, workspace):
    demo = Integration.objects.create(workspace=workspace, integration_type="demo", name="D", unique_id="d", state="active")
    assert operator_client.get(f"/integrations/{demo.pk}/receive-url/rotate/").status_code == 404


def test_the_cli_lists_and_rotates_the_receive_url(workspace):
    # given
    integration = endpoint(workspace)
    old_url = receive_url(integration)
    listed = StringIO()
    call_command("integration", "list", "--workspace", workspace.slug, "--json", stdout=listed)
    assert json.loads(listed.getvalue())[0]["receive_url"] == old_url
    # when
    out = StringIO()
    call_command("integration", "rotate-receive-url", str(integration.pk), "--workspace", workspace.slug, "--json", stdout=out)
    # then
    document = json.loads(out.getvalue())
    assert document["receive_url"] == receive_url(integration) != old_url and document["previous_url_works_until"]
    assert post(old_url.removeprefix("http://127.0.0.1:8000")).status_code == 401  # still in its overlap


def test_is_own_receive_url_recognises_our_keys_whatever_the_host(workspace):
    integration = endpoint(workspace)
    key = hookkeys.current_key(integration)
    assert hookkeys.is_own_receive_url(f"https://hi.example.com/hooks/{key}/")
    assert hookkeys.is_own_receive_url(f"http://127.0.0.1:8000/prefix/hooks/{key}?x=1")
    assert not hookkeys.is_own_receive_url(f"https://hi.example.com/hooks/{hookkeys.new_key()}/")
    assert not hookkeys.is_own_receive_url(f"https://hi.example.com/{key}/")


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_integrations_a_key(workspace):
    # given: the schema before receive-URL keys, with an integration in it
    executor = MigrationExecutor(connection)
    executor.migrate([("integrations", "0004_inbound_pending_index")])
    old_apps = executor.loader.project_state([("integrations", "0004_inbound_pending_index")]).apps
    old = old_apps.get_model("integrations", "Integration").objects.create(
        workspace_id=workspace.pk, integration_type="webhook", name="Old", unique_id="https://old.example.com", state="active"
    )
    # when
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then: it has a working key, and its id is not where to post
    integration = Integration.objects.get(pk=old.pk)
    assert HookKey.objects.filter(integration=integration, expires_at__isnull=True).count() == 1
    assert post(receive_path(integration)).status_code != 404 and post(f"/hooks/{integration.pk}/").status_code == 404
