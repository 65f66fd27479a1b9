"""Shared fixtures: loopback allow-listed, workspaces, users with roles, logged-in clients and the demo simulator."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from hi.integrations.config import setup
from hi.integrations.core.redaction import forget_known
from hi.integrations.types import IntegrationType
from hi.services.demo.simulator import DemoSimulator
from hi.workspaces.models import Membership, Role, Workspace

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fresh_known_secrets():
    """Each test starts like a new process: it has loaded no secret yet (so none is redacted from its logs)."""
    forget_known()
    yield
    forget_known()


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """Simulators and fake providers listen on 127.0.0.1 over http: allow-list loopback, as `make run` does."""
    # Tests of the guard itself set HI_OUTBOUND_ALLOWED_NETWORKS back to [] (see integrations/tests/test_ssrf.py).
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def sim():
    """A running demo provider simulator on 127.0.0.1."""
    server = DemoSimulator().start()
    yield server
    server.stop()


@pytest.fixture
def workspace(db) -> Workspace:
    """The workspace the tests act in."""
    return Workspace.objects.create(slug="main", name="Main Street Café")


@pytest.fixture
def other_workspace(db) -> Workspace:
    """A second tenant whose data must stay invisible."""
    return Workspace.objects.create(slug="other", name="Other Tenant")


def member(workspace: Workspace, username: str, role: Role):
    """A user with a role in a workspace."""
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def operator(workspace):
    """An operator of the workspace."""
    return member(workspace, "olivia", Role.OPERATOR)


@pytest.fixture
def operator_client(client, operator):
    """A test client logged in as the operator."""
    client.force_login(operator)
    return client


@pytest.fixture
def viewer_client(client, workspace):
    """A test client logged in as a viewer."""
    client.force_login(member(workspace, "victor", Role.VIEWER))
    return client


def demo_attributes(sim, key: str = "demo-key", **extra) -> dict:
    """Raw attributes of a demo integration against the simulator."""
    return {"api_url": sim.url, "api_key": key, "catalog": "active", "page_size": "2", "sync_on_activate": "true", **extra}


@pytest.fixture
def demo(workspace, sim):
    """An active demo integration in the workspace."""
    return setup.add_integration(workspace, IntegrationType.DEMO, "Corner Shop", demo_attributes(sim), actor="test")
