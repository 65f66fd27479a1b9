"""OAuth-style tokens: one refresh for many threads, refreshed ahead of expiry, one re-send after a 401."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest

from hi.integrations.core.errors import ProviderAuthError, ProviderUnavailable
from hi.integrations.models import ProviderCall
from hi.integrations.outbound.http import ProviderClient
from hi.integrations.outbound.tokens import Token, TokenManager, client_credentials, forget_tokens
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response


class TokenProvider(FakeProviderServer):
    """An OAuth provider: POST /oauth/token issues tok-1, tok-2, …; GET /api accepts only `accepted` tokens."""

    def __init__(self) -> None:
        """A provider with no token issued yet."""
        super().__init__()
        self.issued: list[str] = []
        self.accepted: set[str] | None = None  # None: whatever was issued
        self.token_delay_s = 0.0
        self.route("POST", "/oauth/token", self.token)
        self.route("GET", "/api", self.api)

    def token(self, request):
        """POST /oauth/token: a new token for the right client credentials, else 401."""
        time.sleep(self.token_delay_s)
        form = dict(pair.split("=", 1) for pair in request.body.decode().split("&"))
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials",
            "app",
            "app-secret",
        ):
            return json_response(401, {"error": "invalid_client"})
        with self._lock:
            self.issued.append(f"tok-{len(self.issued) + 1}")
            value = self.issued[-1]
        return json_response(200, {"access_token": value, "token_type": "Bearer", "expires_in": 3600})

    def api(self, request):
        """GET /api: 200 with an accepted token, else 401."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        accepted = self.accepted if self.accepted is not None else set(self.issued)
        if scheme != "Bearer" or value not in accepted:
            return json_response(401, {"error": "invalid_token", "got": value})
        return json_response(200, {"token": value})


@pytest.fixture
def provider():
    """A token provider, with the token cache cleared after the test."""
    with TokenProvider() as server:
        yield server
    forget_tokens()


def manager_for(provider, key=None):
    """A token manager fetching client-credentials tokens from the fake provider."""
    token_client = ProviderClient("acme", provider.url, secrets=["app-secret"])
    return TokenManager(
        key or f"acme:{uuid.uuid4()}", client_credentials(token_client, "/oauth/token", "app", "app-secret")
    )


def test_ten_threads_needing_a_token_cause_exactly_one_refresh(provider):
    provider.token_delay_s = 0.2  # the others arrive while the first refresh is in flight
    tokens = manager_for(provider)
    barrier = threading.Barrier(10)
    seen: list[str] = []

    def call():
        """Wait for the others, call once and record the token used."""
        barrier.wait()
        seen.append(ProviderClient("acme", provider.url, token_manager=tokens).get_json("/api")["token"])

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(provider.requests_to("/oauth/token")) == 1
    assert seen == ["tok-1"] * 10


def test_the_token_is_shared_by_every_client_of_the_same_key(provider):
    key = f"acme:{uuid.uuid4()}"
    for _ in range(3):
        ProviderClient("acme", provider.url, token_manager=manager_for(provider, key)).get_json("/api")
    assert provider.issued == ["tok-1"]


def test_a_token_is_refreshed_ahead_of_its_expiry():
    now = time.time()
    fetched: list[Token] = []

    def fetch():
        """A token with a minute left the first time, a fresh one after."""
        # The first token was issued 59 minutes ago and has a minute left: inside the 5-minute margin.
        issued = now - 3540 if not fetched else now
        fetched.append(Token(f"t{len(fetched) + 1}", expires_at=issued + 3600, issued_at=issued))
        return fetched[-1]

    tokens = TokenManager(f"k:{uuid.uuid4()}", fetch)
    assert tokens.get() == "t1"
    assert tokens.get() == "t2" and not fetched[0].expired  # replaced while still valid
    assert tokens.get() == "t2" and len(fetched) == 2


def test_the_refresh_margin_is_five_minutes_or_a_tenth_of_the_lifetime():
    assert Token("a", expires_at=3600, issued_at=0).refresh_at() == 3300
    assert Token("a", expires_at=600, issued_at=0).refresh_at() == 540
    assert Token.from_oauth({"access_token": "a", "expires_in": 120}, now=1000).expires_at == 1120
    with pytest.raises(ValueError):
        Token.from_oauth({"token_type": "Bearer"})


def test_a_failed_early_refresh_keeps_the_still_valid_token():
    now = time.time()
    calls = []

    def fetch():
        """An old token the first time, an outage after."""
        calls.append(1)
        if len(calls) > 1:
            raise ProviderUnavailable("acme", "token endpoint down", 503)
        return Token("old", expires_at=now + 60, issued_at=now - 3540)

    tokens = TokenManager(f"k:{uuid.uuid4()}", fetch)
    assert tokens.get() == "old"
    assert tokens.get() == "old" and len(calls) == 2  # tried, failed, kept the valid one


def test_a_401_refreshes_the_token_once_and_sends_again(provider, demo):
    tokens = manager_for(provider)
    tokens.get()  # tok-1, which the provider then revokes
    provider.accepted = {"tok-2"}
    answer = ProviderClient("acme", provider.url, integration=demo, token_manager=tokens).get_json("/api")
    assert answer == {"token": "tok-2"}
    assert [r.headers["authorization"] for r in provider.requests_to("/api")] == ["Bearer tok-1", "Bearer tok-2"]
    calls = ProviderCall.objects.filter(integration=demo, url__endswith="/api").order_by("attempt")
    assert [(c.attempt, c.status) for c in calls] == [(1, 401), (2, 200)]


def test_a_token_refused_twice_is_an_auth_error_after_one_refresh(provider):
    provider.accepted = set()
    tokens = manager_for(provider)
    with pytest.raises(ProviderAuthError) as caught:
        ProviderClient("acme", provider.url, token_manager=tokens).get_json("/api")
    assert caught.value.status == 401
    assert len(provider.requests_to("/oauth/token")) == 2 and len(provider.requests_to("/api")) == 2
    assert "tok-2" not in str(caught.value)  # the provider echoed it: redacted


def test_bad_client_credentials_are_an_auth_error(provider):
    token_client = ProviderClient("acme", provider.url)
    tokens = TokenManager(f"k:{uuid.uuid4()}", client_credentials(token_client, "/oauth/token", "app", "wrong"))
    with pytest.raises(ProviderAuthError):
        ProviderClient("acme", provider.url, token_manager=tokens).get_json("/api")
    assert provider.requests_to("/api") == []


def test_token_values_are_never_logged(provider, demo, caplog):
    caplog.set_level(logging.DEBUG, logger="hi")
    tokens = manager_for(provider)
    tokens.get()
    provider.accepted = {"tok-2"}
    api = ProviderClient("acme", provider.url, integration=demo, token_manager=tokens)
    api.get_json("/api")
    api.get_json("/api", params={"echo": "tok-2"})  # a token that ends up in a URL is redacted from the call log
    assert provider.issued == ["tok-1", "tok-2"]
    assert "tok-1" not in caplog.text and "tok-2" not in caplog.text
    assert "tok-1" not in repr(tokens.current) and "tok-2" not in repr(tokens.current)
    assert not ProviderCall.objects.filter(url__contains="tok-").exists()
