"""The provider HTTP client: timeouts always set, typed errors with status and excerpt."""
from __future__ import annotations

import pytest

from hi.integrations.http import (
    ProviderAuthError,
    ProviderClient,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response


@pytest.fixture
def fake():
    """A bare fake provider."""
    with FakeProviderServer() as server:
        yield server


@pytest.mark.parametrize(
    "answer,error",
    [
        (json_response(401, {"e": "no"}), ProviderAuthError),
        (json_response(403, {"e": "no"}), ProviderAuthError),
        (json_response(429, {"e": "slow"}, {"Retry-After": "12"}), ProviderRateLimited),
        (json_response(502, {"e": "down"}), ProviderUnavailable),
        (json_response(422, {"e": "bad order"}), ProviderRejected),
        ((302, {"Location": "https://elsewhere.example/"}, b""), ProviderRejected),
    ],
)
def test_answers_map_to_typed_errors(fake, answer, error):
    fake.route("GET", "/x", lambda request: answer)
    with pytest.raises(error) as caught:
        ProviderClient("acme", fake.url).get_json("/x")
    assert caught.value.provider == "acme" and caught.value.status == answer[0]
    if error is ProviderRateLimited:
        assert caught.value.retry_after == 12
    if answer[0] == 422:
        assert "bad order" in caught.value.excerpt


def test_a_slow_provider_times_out_and_an_absent_one_is_unavailable(fake):
    fake.route("GET", "/x", lambda request: json_response(200, {}))
    fake.faults.delay_s = 1
    with pytest.raises(ProviderTimeout):
        ProviderClient("acme", fake.url, timeout=(1, 0.2)).get_json("/x")
    with pytest.raises(ProviderUnavailable):
        ProviderClient("acme", "http://127.0.0.1:9").get_json("/x")


def test_requests_carry_a_user_agent_and_json_answers_parse(fake):
    fake.route("GET", "/x", lambda request: json_response(200, {"ok": True}))
    assert ProviderClient("acme", fake.url).get_json("/x") == {"ok": True}
    assert fake.requests[-1].headers["user-agent"].startswith("hi/")
    fake.route("GET", "/y", lambda request: (200, {}, b"<html>"))
    with pytest.raises(ProviderRejected, match="not JSON"):
        ProviderClient("acme", fake.url).get_json("/y")
