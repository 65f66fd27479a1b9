"""Workspaces never see each other's data, and viewers cannot change anything."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hi.conftest import PASSWORD, demo_attributes, member
from hi.integrations.config import setup
from hi.integrations.models import Integration
from hi.integrations.types import IntegrationType
from hi.workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_workspace, sim):
    """An integration of another workspace."""
    return setup.add_integration(other_workspace, IntegrationType.DEMO, "Theirs", demo_attributes(sim), actor="test")


def object_urls(integration: Integration) -> list[str]:
    """Every console URL about one integration."""
    pk = integration.pk
    entity = integration.entities.first()
    return [
        reverse("integration-manage", args=[pk]),
        reverse("integration-configure", args=[pk]),
        reverse("integration-reauth", args=[pk]),
        reverse("integration-remove", args=[pk]),
        reverse("integration-diagnostics", args=[pk]),
        reverse("integration-entity-rename", args=[pk, entity.pk]),
    ] + [reverse("integration-action", args=[pk, action]) for action in ("activate", "deactivate", "pause", "resume", "test", "sync")]


def test_another_workspaces_integration_is_a_404_everywhere(operator_client, foreign):
    for url in object_urls(foreign):
        assert operator_client.get(url).status_code in (404, 405), url
        assert operator_client.post(url).status_code == 404, url
    foreign.refresh_from_db()
    assert foreign.state == "active" and Integration.objects.filter(pk=foreign.pk).exists()


def test_the_dashboard_lists_only_the_current_workspace(operator_client, demo, foreign):
    page = operator_client.get("/").content.decode()
    assert demo.name in page and "Theirs" not in page


def test_the_same_account_may_be_configured_in_two_workspaces(demo, foreign):
    assert demo.unique_id == foreign.unique_id


def test_a_member_of_two_workspaces_switches_between_them(client, workspace, other_workspace, demo, foreign):
    user = member(workspace, "maria", Role.OPERATOR)
    from hi.workspaces.models import Membership

    Membership.objects.create(workspace=other_workspace, user=user, role=Role.VIEWER)
    client.force_login(user)
    assert demo.name in client.get("/").content.decode()
    client.post(reverse("workspace-switch"), {"workspace": "other"})
    page = client.get("/").content.decode()
    assert "Theirs" in page and demo.name not in page
    assert client.get(demo.get_absolute_url()).status_code == 404


def test_switching_to_a_workspace_one_is_not_a_member_of_is_refused(operator_client, other_workspace):
    assert operator_client.post(reverse("workspace-switch"), {"workspace": "other"}).status_code == 400


def test_viewers_see_but_cannot_change(viewer_client, demo):
    page = viewer_client.get(demo.get_absolute_url()).content.decode()
    assert demo.name in page and "Pause" not in page
    for url in object_urls(demo)[1:4] + object_urls(demo)[5:] + [reverse("integration-add")]:
        response = viewer_client.post(url, {"name": "x", "entities": "delete"})
        assert response.status_code == 403, url
    demo.refresh_from_db()
    assert demo.state == "active" and Integration.objects.filter(pk=demo.pk).exists()
    assert viewer_client.get(reverse("integration-diagnostics", args=[demo.pk])).status_code == 200


def test_a_user_without_a_workspace_is_told_so(client, db):
    user = get_user_model().objects.create_user("lonely", password=PASSWORD)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403 and "not a member of any workspace" in response.content.decode()
