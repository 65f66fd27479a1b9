"""Fixtures the iFood service's tests share: the simulator and an integration polling it."""
from __future__ import annotations

import pytest

from hi.integrations.api import forget_clients, forget_tokens
from hi.services.ifood.simulator import IFoodSimulator

from .helpers import CLIENT_ID, MERCHANTS, SECRET, add_ifood


@pytest.fixture(autouse=True)
def fresh_tokens():
    """Each test starts like a new process: no cached token or client from another test's simulator."""
    forget_tokens()
    forget_clients()
    yield
    forget_tokens()


@pytest.fixture
def ifood_sim():
    """A running iFood simulator knowing the test credential and both test merchants."""
    server = IFoodSimulator(credentials={CLIENT_ID: SECRET}, merchants=MERCHANTS, seed=7).start()
    yield server
    server.stop_background()
    server.stop()


@pytest.fixture
def ifood(workspace, ifood_sim):
    """An active iFood integration polling the simulator."""
    return add_ifood(workspace, ifood_sim)
