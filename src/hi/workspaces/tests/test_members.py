"""Admins manage members; a workspace never loses its last admin; others cannot."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from hi.conftest import member
from hi.workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, workspace):
    """A client logged in as the workspace's only admin."""
    client.force_login(member(workspace, "ada", Role.ADMIN))
    return client


def invitation_link(response) -> str:
    """The one-time invitation link a members page shows (its path)."""
    page = response.content.decode()
    assert 'class="invitation-link"' in page, page
    return urlsplit(page.split('<code class="invitation-link">')[1].split("</code>")[0]).path


def test_a_new_username_gets_a_link_where_they_choose_their_password(admin_client, workspace):
    response = admin_client.post(reverse("workspace-members"), {"username": "newbie", "role": "operator"})
    assert response["Cache-Control"] == "no-store"
    link = invitation_link(response)
    assert not get_user_model().objects.filter(username="newbie").exists()  # nothing exists until they answer
    visitor = Client()
    assert "Choose a password for newbie" in visitor.get(link).content.decode()
    answer = visitor.post(link, {"action": "create", "new_password1": "a-long-Pass-phrase-77", "new_password2": "a-long-Pass-phrase-77"})
    assert answer.status_code == 302
    assert Membership.objects.get(user__username="newbie", workspace=workspace).role == Role.OPERATOR
    assert "newbie" in visitor.get("/").content.decode()  # logged in
    assert Client().get(link).status_code == 404  # used up
    assert link not in admin_client.get(reverse("workspace-members")).content.decode()


def test_roles_change_but_the_last_admin_stays(admin_client, workspace):
    ada = Membership.objects.get(user__username="ada")
    page = admin_client.post(reverse("workspace-member-update", args=[ada.pk]), {"role": "viewer"}, follow=True).content.decode()
    assert "keeps at least one admin" in page
    page = admin_client.post(reverse("workspace-member-update", args=[ada.pk]), {"remove": "1"}, follow=True).content.decode()
    assert "keeps at least one admin" in page
    ada.refresh_from_db()
    assert ada.role == Role.ADMIN
    other = Membership.objects.get(user=member(workspace, "bob", Role.VIEWER))
    admin_client.post(reverse("workspace-member-update", args=[other.pk]), {"role": "admin"})
    admin_client.post(reverse("workspace-member-update", args=[ada.pk]), {"role": "operator"})
    ada.refresh_from_db()
    assert ada.role == Role.OPERATOR


def test_a_bad_role_is_a_400_and_changes_nothing(admin_client, workspace):
    bob = Membership.objects.get(user=member(workspace, "bob", Role.VIEWER))
    assert admin_client.post(reverse("workspace-member-update", args=[bob.pk]), {"role": "owner"}).status_code == 400
    bob.refresh_from_db()
    assert bob.role == Role.VIEWER


def test_operators_cannot_manage_members(operator_client, workspace):
    assert operator_client.get(reverse("workspace-members")).status_code == 403
    assert "Members" not in operator_client.get("/").content.decode().split("<main")[0]
    viewer = Membership.objects.get(user=member(workspace, "vic", Role.VIEWER))
    assert operator_client.post(reverse("workspace-member-update", args=[viewer.pk]), {"role": "admin"}).status_code == 403
    viewer.refresh_from_db()
    assert viewer.role == Role.VIEWER


def test_another_workspaces_membership_is_a_404(admin_client, other_workspace):
    foreign = Membership.objects.get(user=member(other_workspace, "zed", Role.ADMIN))
    assert admin_client.post(reverse("workspace-member-update", args=[foreign.pk]), {"remove": "1"}).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()
