"""ProviderClient's `read_error`: a provider's code decides over the HTTP status; a lost answer says whether the request went out."""
from __future__ import annotations

import socket

import pytest

from hi.integrations.core.errors import (
    ProviderAuthError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    response_bodies_withheld,
)
from hi.integrations.outbound.error_readings import ErrorReading
from hi.integrations.outbound.http import ProviderClient
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response

CODES = {190: ProviderAuthError, 131056: ProviderRateLimited, 131000: ProviderUnavailable}


def graph_reading(response) -> ErrorReading | None:
    """A Graph-style reader: {"error": {"code", "message"}}."""
    error = response.json().get("error") or {}
    kind = CODES.get(error.get("code"))
    return ErrorReading(
        kind, str(error["code"]), error.get("message", ""), retry_after=6 if kind is ProviderRateLimited else None
    ) if kind else None


def graph_error(status: int, code: int, message: str):
    """A Graph error envelope."""
    return json_response(status, {"error": {"message": message, "type": "OAuthException", "code": code}})


@pytest.fixture
def fake():
    """A bare fake provider."""
    with FakeProviderServer() as server:
        yield server


def client(fake, **options) -> ProviderClient:
    """A client of the fake that reads Graph errors."""
    return ProviderClient("graph", fake.url, read_error=graph_reading, **options)


@pytest.mark.parametrize("status", [400, 401])
def test_an_expired_token_over_400_or_401_is_an_auth_error_with_its_code(fake, status):
    # given
    fake.route("GET", "/me", lambda r: graph_error(status, 190, "Error validating access token"))
    # when
    with pytest.raises(ProviderAuthError) as caught:
        client(fake).get_json("/me")
    # then
    assert (caught.value.status, caught.value.code) == (status, "190")
    assert "Error validating access token (code 190)" in str(caught.value)


def test_a_rate_limit_over_400_waits_as_the_reading_says_and_a_server_error_code_is_unavailable(fake):
    # given
    fake.route("POST", "/pair", lambda r: graph_error(400, 131056, "pair rate limit hit"))
    fake.route("POST", "/generic", lambda r: graph_error(400, 131000, "Something went wrong"))
    # when / then
    with pytest.raises(ProviderRateLimited) as limited:
        client(fake).request("POST", "/pair", json={})
    assert (limited.value.code, limited.value.retry_after) == ("131056", 6)
    with pytest.raises(ProviderUnavailable) as unavailable:
        client(fake).request("POST", "/generic", json={})
    assert unavailable.value.code == "131000"


def test_other_codes_and_unreadable_bodies_leave_the_status_to_decide(fake):
    # given
    fake.route("POST", "/template", lambda r: graph_error(400, 132001, "Template name does not exist"))
    fake.route("POST", "/html", lambda r: (400, {"Content-Type": "text/html"}, b"<h1>Bad</h1>"))
    # when / then
    for path in ("/template", "/html"):
        with pytest.raises(ProviderRejected) as caught:
            client(fake).request("POST", path, json={})
        assert caught.value.code == ""


def test_while_answers_are_withheld_the_code_is_kept_and_the_words_are_not(fake):
    # given
    fake.route("GET", "/me", lambda r: graph_error(400, 190, "internal note from an unknown host"))
    # when
    with response_bodies_withheld(), pytest.raises(ProviderAuthError) as caught:
        client(fake).get_json("/me")
    # then
    assert caught.value.code == "190" and "internal note" not in str(caught.value)


def test_an_answer_lost_after_the_request_was_written_says_so_and_a_refused_connection_does_not(fake):
    # given: a provider that takes the request and never answers in time
    fake.faults.delay_s = 2
    # when
    with pytest.raises(ProviderTimeout) as slow:
        client(fake, timeout=(1, 0.3)).request("POST", "/messages", json={"to": "5511999998888"})
    # then
    assert slow.value.request_sent is True
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderUnavailable) as refused:
        ProviderClient("graph", f"http://127.0.0.1:{port}").request("POST", "/messages", json={})
    assert refused.value.request_sent is False


def test_a_post_is_sent_once_whatever_the_status(fake, settings):
    # given: retries on, a provider answering 503 to everything
    settings.HI_HTTP_RETRIES = 3
    settings.HI_HTTP_BACKOFF_FACTOR = 0.001
    fake.faults.status = 503
    # when
    with pytest.raises(ProviderUnavailable):
        client(fake).request("POST", "/messages", json={})
    # then: a POST without idempotent=True is never repeated inside the call
    assert len(fake.requests_to("/messages")) == 1
