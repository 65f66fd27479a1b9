"""A client may keep a short, redacted line of a 401/403 refusal, even while set-up withholds provider bodies."""
from __future__ import annotations

import pytest

from hi.integrations.core.errors import ProviderAuthError, ProviderUnavailable, response_bodies_withheld
from hi.integrations.outbound.http import ProviderClient
from hi.integrations.testing import FakeProviderServer

KEY = "k3y-that-must-never-show"


@pytest.fixture
def refusing():
    """A server answering /refused with the status set on it: the key it got, then two kilobytes."""
    server = FakeProviderServer().start()
    server.status = 401
    body = f"denied:\n\tkey\x1b[31m {KEY}\n" + "y" * 2000
    server.route("GET", "/refused", lambda request: (server.status, {"Content-Type": "text/plain"}, body.encode()))
    yield server
    server.stop()


def test_an_opted_in_client_keeps_a_short_redacted_line_of_a_refusal_during_set_up(refusing):
    client = ProviderClient("acme", refusing.url, secrets=[KEY], refusal_chars=60)
    with response_bodies_withheld(), pytest.raises(ProviderAuthError) as caught:
        client.get_json("/refused")
    assert caught.value.excerpt == "" and KEY not in str(caught.value)  # the body rule still holds
    refusal = caught.value.refusal
    assert refusal.startswith("denied: key [31m **REDACTED** yyy") and refusal.endswith("…") and len(refusal) == 60
    assert "\x1b" not in refusal and "\n" not in refusal


def test_other_clients_and_other_answers_keep_nothing(refusing):
    with response_bodies_withheld(), pytest.raises(ProviderAuthError) as caught:
        ProviderClient("acme", refusing.url, secrets=[KEY]).get_json("/refused")
    assert caught.value.refusal == ""
    refusing.status = 500
    with response_bodies_withheld(), pytest.raises(ProviderUnavailable) as failed:
        ProviderClient("acme", refusing.url, secrets=[KEY], refusal_chars=60).get_json("/refused")
    assert "denied" not in str(failed.value) and not hasattr(failed.value, "refusal")
