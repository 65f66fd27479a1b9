"""An iFood token endpoint that echoes the form it got never puts the client secret, in any encoding, anywhere."""
from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from hi.integrations.api import forget_tokens
from hi.integrations.testing import WorkerProcess
from hi.integrations.testing.canary import CANARY, all_database_text, echo_body, leaks
from hi.services.ifood.client import TOKEN_PATH
from hi.services.ifood.models import state_of
from hi.services.ifood.simulator import IFoodSimulator

from .helpers import CLIENT_ID, MERCHANTS, add_ifood

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def canary_sim():
    """The simulator, knowing a credential whose secret is the canary."""
    server = IFoodSimulator(credentials={CLIENT_ID: CANARY}, merchants=MERCHANTS, seed=7).start()
    yield server
    server.stop_background()
    server.stop()


@pytest.mark.parametrize("status", [500, 400, 401])
def test_an_echoing_token_endpoint_leaks_nothing(workspace, canary_sim, viewer_client, caplog, status):
    integration = add_ifood(workspace, canary_sim, client_secret=CANARY)
    # From now on the token endpoint answers with the form it got: raw, and in every other encoding.
    canary_sim.route("POST", TOKEN_PATH, lambda request: (
        status, {"Content-Type": "text/plain"}, request.body + echo_body([CANARY]).encode()
    ))
    forget_tokens()  # the token expired: the next call asks for one
    caplog.set_level(logging.DEBUG)
    WorkerProcess(worker_id="w-echo", drain=True, poll_s=0.05).run()  # the due jobs run once, in its slots

    state = state_of(integration)
    integration.refresh_from_db()
    failure = state.last_poll_error if status != 401 else integration.reason
    assert "REDACTED" in failure, failure  # the error was kept...
    pages = [
        viewer_client.get(integration.get_absolute_url()).content.decode(),
        viewer_client.get(reverse("integration-diagnostics", args=[integration.pk])).content.decode(),
    ]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert f"Job poll_events ({integration.pk}) failed" in logged
    for text in [failure, *pages, logged, all_database_text()]:
        assert not leaks(text, CANARY), leaks(text, CANARY)  # ...without the secret in any form
