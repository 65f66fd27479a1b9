"""Invitations: nobody is added to a workspace without accepting, and the admin never learns who exists elsewhere."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from hi.conftest import PASSWORD, member
from hi.workspaces.models import Invitation, Membership, Role

from .test_members import invitation_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, workspace):
    """A client logged in as the workspace's admin."""
    client.force_login(member(workspace, "ada", Role.ADMIN))
    return client


@pytest.fixture
def zed(other_workspace):
    """A user of another workspace only."""
    return member(other_workspace, "zed", Role.ADMIN)


def as_user(user) -> Client:
    """A browser logged in as `user`."""
    browser = Client()
    browser.force_login(user)
    return browser


def test_an_existing_user_elsewhere_is_invited_not_added_and_accepts_after_logging_in(admin_client, workspace, zed):
    link = invitation_link(admin_client.post(reverse("workspace-members"), {"username": "zed", "role": "viewer"}))
    assert not Membership.objects.filter(workspace=workspace, user=zed).exists()
    assert 'data-invitation="zed"' in admin_client.get(reverse("workspace-members")).content.decode()
    anonymous = Client().get(link).content.decode()
    assert "Log in as zed" in anonymous
    browser = as_user(zed)
    assert "Accept" in browser.get(link).content.decode()
    assert browser.post(link, {"action": "accept"}).status_code == 302
    assert Membership.objects.get(workspace=workspace, user=zed).role == Role.VIEWER
    assert not Invitation.objects.exists()


def test_declining_changes_nothing_but_the_invitation(admin_client, workspace, zed):
    link = invitation_link(admin_client.post(reverse("workspace-members"), {"username": "zed", "role": "admin"}))
    as_user(zed).post(link, {"action": "decline"})
    assert not Membership.objects.filter(workspace=workspace, user=zed).exists() and not Invitation.objects.exists()


def test_the_members_page_answers_the_same_whether_the_username_exists_elsewhere(admin_client, zed):
    def answer(username: str) -> str:
        """The members page after inviting `username`, its tokens, CSRF and times masked."""
        Invitation.objects.all().delete()  # each answer from the same starting point
        page = admin_client.post(reverse("workspace-members"), {"username": username, "role": "viewer"}).content.decode()
        page = re.sub(r"/workspaces/invitations/[^/<\"]+/", "/workspaces/invitations/TOKEN/", page)
        page = re.sub(r"[A-Za-z0-9]{64}", "CSRF", page)
        page = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "WHEN", page)
        return page.replace(username, "USERNAME")

    assert answer("zed") == answer("nobody-here")


def test_only_the_invited_user_can_accept(admin_client, workspace, zed, other_workspace):
    link = invitation_link(admin_client.post(reverse("workspace-members"), {"username": "zed", "role": "admin"}))
    mallory = member(other_workspace, "mallory", Role.VIEWER)
    page = as_user(mallory).post(link, {"action": "accept"})
    assert page.status_code == 200 and "This invitation is for zed" in page.content.decode()
    assert not Membership.objects.filter(workspace=workspace, user=mallory).exists()
    assert Invitation.objects.filter(username="zed").exists()


def test_the_link_cannot_take_over_an_existing_account(admin_client, workspace, zed):
    link = invitation_link(admin_client.post(reverse("workspace-members"), {"username": "zed", "role": "admin"}))
    page = Client().post(link, {"action": "create", "new_password1": "a-long-Pass-phrase-77", "new_password2": "a-long-Pass-phrase-77"})
    assert "already exists: log in to accept" in page.content.decode()
    zed.refresh_from_db()
    assert zed.check_password(PASSWORD) and not Membership.objects.filter(workspace=workspace, user=zed).exists()


def test_a_withdrawn_or_unknown_invitation_link_is_a_404(admin_client):
    link = invitation_link(admin_client.post(reverse("workspace-members"), {"username": "newbie", "role": "viewer"}))
    invitation = Invitation.objects.get()
    admin_client.post(reverse("workspace-invitation-cancel", args=[invitation.pk]))
    assert Client().get(link).status_code == 404
    assert "no longer valid" in Client().get("/workspaces/invitations/made-up-token/").content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_another_workspaces_invitation_cannot_be_withdrawn(admin_client, other_workspace):
    theirs = Invitation.objects.create(workspace=other_workspace, username="x", token_hash="0" * 64, expires_at="2099-01-01T00:00Z")
    assert admin_client.post(reverse("workspace-invitation-cancel", args=[theirs.pk])).status_code == 404
    assert Invitation.objects.filter(pk=theirs.pk).exists()


def test_a_members_role_still_changes_at_once(admin_client, workspace):
    bob = member(workspace, "bob", Role.VIEWER)
    admin_client.post(reverse("workspace-members"), {"username": "bob", "role": "operator"})
    assert Membership.objects.get(user=bob).role == Role.OPERATOR and not Invitation.objects.exists()
