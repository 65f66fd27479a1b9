"""A receiver that echoes the request headers, in every encoding, never puts the extra-header secrets in the delivery log."""
from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from hi.conftest import member
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.canary import CANARY, all_database_text, echo_body, leaks
from hi.workspaces.models import Role

from .helpers import SECRET, add_endpoint, emit, event_deliveries, make_due, run_due

pytestmark = pytest.mark.django_db
BEARER = "tok-Echo/9+Canary=="


@pytest.fixture
def echo():
    """A receiver answering every POST with what it got: each header value repeated in every encoding."""
    server = FakeProviderServer().start()
    server.status = 200

    def answer(request):
        """Echo every credential-like header back in the body."""
        values = [value for name, value in request.headers.items() if name.lower().startswith(("authorization", "x-"))]
        values += [value.partition(" ")[2] for value in values if " " in value]
        return server.status, {"Content-Type": "text/plain"}, echo_body(values).encode()

    server.route("POST", "/hook", answer)
    yield server
    server.stop()


def test_echoed_extra_headers_never_reach_the_delivery_log(workspace, echo, client, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    headers = json.dumps({"Authorization": f"Bearer {BEARER}", "X-Api-Key": CANARY})
    integration = add_endpoint(workspace, f"{echo.url}/hook", headers=headers)
    # one delivery that the receiver accepts (200, echo in the body), one it refuses (500, echo in the error)
    emit(django_capture_on_commit_callbacks, workspace, "order.created", {"id": 1})
    run_due()
    echo.status = 500
    emit(django_capture_on_commit_callbacks, workspace, "order.paid", {"id": 2})
    run_due()
    make_due()
    run_due()
    assert echo.requests[-1].headers["x-api-key"] == CANARY  # the receiver did get the secrets
    assert event_deliveries().filter(status="delivered").count() == 1

    client.force_login(member(workspace, "vic", Role.VIEWER))
    pages = [client.get(reverse("webhook-deliveries", args=[integration.pk])).content.decode()]
    for delivery in event_deliveries().all():
        pages.append(client.get(reverse("webhook-delivery", args=[integration.pk, delivery.pk])).content.decode())
    assert "you sent:" in pages[1] and "you sent:" in pages[2]  # the answers are shown...
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for text in [*pages, all_database_text(), logged]:
        for secret in (CANARY, BEARER, f"Bearer {BEARER}", SECRET):
            assert not leaks(text, secret), (secret, leaks(text, secret))  # ...without any form of a secret
