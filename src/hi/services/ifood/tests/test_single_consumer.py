"""One iFood credential is connected once in the whole installation: a second consumer would split its orders."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from hi.conftest import member
from hi.integrations.api import Integration, SetupError, save_attributes
from hi.integrations.testing import setup
from hi.workspaces.models import Role

from .helpers import CLIENT_ID, add_ifood, attributes

pytestmark = pytest.mark.django_db
REFUSAL = (
    "This iFood account is already connected in another workspace of this installation: "
    "iFood delivers each event to one consumer only."
)


def test_the_same_credential_in_a_second_workspace_is_refused_without_naming_it(ifood, ifood_sim, other_workspace):
    with pytest.raises(SetupError) as caught:
        add_ifood(other_workspace, ifood_sim)
    assert caught.value.code == "already_connected_elsewhere" and caught.value.message == REFUSAL
    assert ifood.workspace.name not in str(caught.value) and ifood.workspace.slug not in str(caught.value)
    assert not Integration.objects.filter(workspace=other_workspace).exists()


def test_the_console_shows_the_refusal_as_a_form_error(ifood, ifood_sim, other_workspace, client):
    client.force_login(member(other_workspace, "otto", Role.OPERATOR))
    data = {"name": "", **attributes(ifood_sim), "event_mode": "polling", "events_prefix": "/events/v1.0"}
    response = client.post(reverse("integration-add-configure", args=["ifood"]), data)
    page = response.content.decode()
    assert response.status_code == 200 and "already connected in another workspace" in page
    assert ifood.workspace.name not in page and not Integration.objects.filter(workspace=other_workspace).exists()


def test_the_cli_refuses_it_too(ifood, ifood_sim, other_workspace):
    args = ["add", "ifood", "--workspace", other_workspace.slug]
    for key, value in attributes(ifood_sim).items():
        args += ["--set", f"{key}={value}"]
    with pytest.raises(CommandError, match=r"^already_connected_elsewhere: This iFood account"):
        call_command("integration", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_the_database_refuses_a_second_row_for_the_account_even_in_a_race(ifood, other_workspace):
    assert ifood.exclusive_key == f"ifood:{CLIENT_ID}"
    with pytest.raises(IntegrityError), transaction.atomic():
        Integration.objects.create(
            workspace=other_workspace, integration_type="ifood", name="Race", unique_id=CLIENT_ID, exclusive_key=ifood.exclusive_key
        )


def test_an_account_connected_twice_before_the_rule_is_refused_on_reconfigure(ifood, ifood_sim, other_workspace):
    # Two integrations of one account from before the rule (no exclusive key on the second).
    legacy = Integration.objects.create(workspace=other_workspace, integration_type="ifood", name="Old", unique_id=CLIENT_ID)
    save_attributes(legacy, setup.check_configuration(legacy.type, attributes(ifood_sim)), actor="test")
    with pytest.raises(SetupError) as caught:
        setup.reconfigure(legacy, {"merchant_ids": attributes(ifood_sim)["merchant_ids"]}, actor="test")
    assert caught.value.code == "already_connected_elsewhere"
