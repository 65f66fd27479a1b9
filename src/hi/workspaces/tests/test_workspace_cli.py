"""Tests of `manage.py workspace`."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from hi.workspaces.models import Membership, Workspace

User = get_user_model()


@pytest.fixture
def workspace(db) -> Workspace:
    """The default workspace."""
    return Workspace.objects.create(slug="default", name="Default")


def run(*args: str) -> str:
    """Run `manage.py workspace <args>` and return what it printed."""
    out = io.StringIO()
    call_command("workspace", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_makes_a_workspace(db):
    """Given no workspace, when one is created, then it exists with its name."""
    output = run("create", "shop-2", "--name", "Second shop")

    assert Workspace.objects.get(slug="shop-2").name == "Second shop"
    assert "shop-2" in output


def test_create_refuses_a_taken_slug(workspace):
    """Given the default workspace, when it is created again, then the command fails and the name is unchanged."""
    with pytest.raises(CommandError, match="Workspace default already exists"):
        run("create", "default", "--name", "Other")

    assert Workspace.objects.get(slug="default").name == "Default"


def test_create_refuses_an_invalid_slug(db):
    """Given a slug with spaces, when created, then the command fails and nothing is saved."""
    with pytest.raises(CommandError, match="Invalid slug"):
        run("create", "my shop", "--name", "Shop")

    assert not Workspace.objects.exists()


def test_list_shows_slugs_and_member_counts(workspace):
    """Given a workspace with one member, when listed, then its slug, name and count are shown."""
    run("add-member", "default", "alice", "--role", "viewer")

    lines = run("list").splitlines()

    assert lines[0].split() == ["slug", "name", "members"]
    assert lines[1].split() == ["default", "Default", "1"]


def test_add_member_creates_a_user_without_a_usable_password(workspace):
    """Given an unknown user, when added, then the user exists, cannot log in by password, and has the role."""
    run("add-member", "default", "alice", "--role", "operator")

    user = User.objects.get(username="alice")
    assert not user.has_usable_password()
    assert Membership.objects.get(workspace=workspace, user=user).role == "operator"


def test_add_member_takes_the_password_from_the_environment(workspace, monkeypatch):
    """Given a password in an environment variable, when a user is added, then it is set and not printed."""
    monkeypatch.setenv("ALICE_PASSWORD", "s3cret-pass")

    output = run("add-member", "default", "alice", "--role", "admin", "--password-from-env", "ALICE_PASSWORD")

    assert User.objects.get(username="alice").check_password("s3cret-pass")
    assert "s3cret-pass" not in output


def test_add_member_with_a_missing_environment_variable_creates_nothing(workspace, monkeypatch):
    """Given an unset variable, when a user is added with it, then the command fails and no user exists."""
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="NO_SUCH_PASSWORD is not set"):
        run("add-member", "default", "alice", "--role", "admin", "--password-from-env", "NO_SUCH_PASSWORD")
    assert not User.objects.filter(username="alice").exists()


def test_add_member_again_updates_the_role(workspace):
    """Given a viewer, when added again as admin, then the one membership becomes admin."""
    run("add-member", "default", "alice", "--role", "viewer")

    output = run("add-member", "default", "alice", "--role", "admin")

    memberships = Membership.objects.filter(workspace=workspace, user__username="alice")
    assert [m.role for m in memberships] == ["admin"]
    assert "admin" in output


def test_add_member_of_an_existing_user_keeps_their_password(workspace):
    """Given a user with a password, when made a member without --password-from-env, then the password stays."""
    User.objects.create_user("bob", password="bob-pass")

    run("add-member", "default", "bob", "--role", "viewer")

    assert User.objects.get(username="bob").check_password("bob-pass")


def test_add_member_to_an_unknown_workspace_is_refused(workspace):
    """Given a slug that does not exist, when a member is added, then the command fails and creates no user."""
    with pytest.raises(CommandError, match="No workspace nope"):
        run("add-member", "nope", "alice", "--role", "viewer")

    assert not User.objects.filter(username="alice").exists()


def test_add_member_with_an_unknown_role_is_refused(workspace):
    """Given a role outside viewer/operator/admin, when a member is added, then argparse refuses it."""
    with pytest.raises(CommandError, match="invalid choice"):
        run("add-member", "default", "alice", "--role", "owner")

    assert not Membership.objects.exists()
