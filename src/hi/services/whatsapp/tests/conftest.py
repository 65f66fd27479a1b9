"""Fixtures the WhatsApp service's tests share: the simulator and an active integration on it."""
from __future__ import annotations

import pytest

from hi.integrations.api import forget_clients
from hi.services.whatsapp.simulator import WhatsAppSimulator

from .helpers import APP_SECRET, TOKEN, VERIFY_TOKEN, add_whatsapp


@pytest.fixture(autouse=True)
def fresh_clients():
    """Each test starts like a new process: no client kept from another test's simulator."""
    forget_clients()
    yield
    forget_clients()


@pytest.fixture
def wa_sim():
    """A running WhatsApp simulator that knows the test token and secrets; its notifications are delivered by the test."""
    server = WhatsAppSimulator(access_token=TOKEN, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, seed=7).start()
    server.status_delay_s = 0.01
    yield server
    server.stop()


@pytest.fixture
def whatsapp(workspace, wa_sim):
    """An active WhatsApp integration on the simulator."""
    return add_whatsapp(workspace, wa_sim)
