"""oauth_client(): one client-credentials helper for every OAuth provider, against a real token endpoint on 127.0.0.1."""

from __future__ import annotations

import base64
import threading
import time
from urllib.parse import parse_qs, unquote

import pytest
from django.db import connection

from hi.integrations.api import (
    CAMEL_CASE_FORM,
    RFC6749_FORM,
    ProviderAuthError,
    ProviderRejected,
    TokenForm,
    forget_clients,
    forget_tokens,
    oauth_client,
)
from hi.integrations.models import ProviderCall
from hi.integrations.testing import FakeProviderServer, json_response

CLIENT_ID, SECRET = "app", "app-secret-0123456789"


class OAuthProvider(FakeProviderServer):
    """A token endpoint (POST /oauth/token) and an API (GET /api) that accepts only the tokens it issued and still accepts."""

    def __init__(self, form: TokenForm = RFC6749_FORM, *, basic: bool = False, lifetime_s: int = 3600) -> None:
        """A provider speaking `form`, with HTTP Basic client credentials when `basic`, issuing tokens for `lifetime_s`."""
        super().__init__()
        self.form, self.basic, self.lifetime_s = form, basic, lifetime_s
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.token_delay_s = 0.0
        self.route("POST", "/oauth/token", self.token)
        self.route("GET", "/api", self.api)

    def credentials(self, request) -> tuple[str, str, str]:
        """(grant type, client id, secret) from the form, or from the Basic header when the provider wants that."""
        fields = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if not self.basic:
            return fields.get(self.form.grant_type, ""), fields.get(self.form.client_id, ""), fields.get(self.form.client_secret, "")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        user, _, password = base64.b64decode(encoded).decode().partition(":") if scheme == "Basic" else ("", "", "")
        if self.form.client_secret in fields:
            return "", "", ""  # a secret in the form as well: refused
        return fields.get(self.form.grant_type, ""), unquote(user), unquote(password)

    def token(self, request):
        """POST /oauth/token: a new token for the right client credentials, else 401."""
        time.sleep(self.token_delay_s)  # a slow token endpoint: the other threads arrive while this refresh is in flight
        if self.credentials(request) != ("client_credentials", CLIENT_ID, SECRET):
            return json_response(401, {"error": "invalid_client"})
        with self._lock:
            self.issued.append(f"tok-{len(self.issued) + 1}")
            value = self.issued[-1]
        return json_response(200, {self.form.access_token: value, "token_type": "Bearer", self.form.expires_in: self.lifetime_s})

    def api(self, request):
        """GET /api: 200 with the token for one issued and not revoked, else 401."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or value not in self.issued or value in self.revoked:
            return json_response(401, {"error": "invalid_token"})
        return json_response(200, {"token": value})

    def token_requests(self) -> int:
        """How many tokens were asked for."""
        return len(self.requests_to("/oauth/token"))


@pytest.fixture(autouse=True)
def fresh_process():
    """Every test starts like a new process: no token, no kept client."""
    forget_tokens()
    forget_clients()
    yield
    forget_tokens()
    forget_clients()


def client(provider, integration, **options):
    """The helper's client for the fake provider's credential."""
    return oauth_client(
        integration, "acme", provider.url, token_path="/oauth/token", client_id=CLIENT_ID, client_secret=SECRET, **options
    )


@pytest.mark.django_db(transaction=True)
def test_many_threads_needing_a_token_cause_one_token_request(demo):
    """Given ten threads calling at once with no token yet, then the provider is asked for one token, which all of them use."""
    with OAuthProvider() as provider:
        provider.token_delay_s = 0.3
        barrier = threading.Barrier(10)
        seen: list[str] = []

        def call():
            """Wait for the others, call the API once and record the token used."""
            try:
                barrier.wait()
                seen.append(client(provider, demo).get_json("/api")["token"])
            finally:
                connection.close()  # each thread wrote its call log rows on its own connection

        threads = [threading.Thread(target=call) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert provider.token_requests() == 1
        assert seen == ["tok-1"] * 10


def test_the_integration_s_client_is_kept_and_its_token_shared(demo):
    """Given repeated calls for the same integration and credential, then one kept client and one token serve them all."""
    with OAuthProvider() as provider:
        first = client(provider, demo)
        assert client(provider, demo) is first  # one session per integration, not one per call
        for _ in range(3):
            client(provider, demo).get_json("/api")
        assert provider.token_requests() == 1
        # The token request is the integration's provider call like any other (its breaker, its call log).
        assert ProviderCall.objects.filter(integration=demo, url__endswith="/oauth/token").count() == 1


def test_a_token_is_kept_until_its_expiry_minus_the_margin():
    """Given a one-minute token, then the default margin (10% of it) keeps it; a margin past its lifetime refreshes on every call."""
    with OAuthProvider(lifetime_s=60) as provider:
        kept = client(provider, None)
        assert [kept.get_json("/api")["token"] for _ in range(2)] == ["tok-1", "tok-1"]
        forget_tokens()
        due = client(provider, None, margin_s=120)
        assert [due.get_json("/api")["token"] for _ in range(2)] == ["tok-2", "tok-3"]


def test_a_401_gets_one_new_token_and_the_call_is_sent_again(demo):
    """Given a token the provider revoked, then one new token is fetched and the refused call sent again with it."""
    with OAuthProvider() as provider:
        api = client(provider, demo)
        assert api.get_json("/api") == {"token": "tok-1"}
        provider.revoked.add("tok-1")
        assert api.get_json("/api") == {"token": "tok-2"}
        assert provider.token_requests() == 2
        assert [r.headers["authorization"] for r in provider.requests_to("/api")] == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_a_second_401_is_an_auth_error_after_one_refresh(demo):
    """Given a provider that refuses every token, then one refresh, one re-send, and ProviderAuthError (no loop)."""
    with OAuthProvider() as provider:
        provider.api = lambda request: json_response(401, {"error": "invalid_token"})
        provider.route("GET", "/api", provider.api)
        with pytest.raises(ProviderAuthError) as caught:
            client(provider, demo).get_json("/api")
        assert caught.value.status == 401
        assert provider.token_requests() == 2 and len(provider.requests_to("/api")) == 2


def test_refused_client_credentials_are_an_auth_error_and_no_call_is_made():
    """Given a secret the token endpoint refuses, then ProviderAuthError, and the API is never called."""
    with OAuthProvider() as provider:
        api = oauth_client(None, "acme", provider.url, token_path="/oauth/token", client_id=CLIENT_ID, client_secret="wrong-secret")
        with pytest.raises(ProviderAuthError) as caught:
            api.get_json("/api")
        assert provider.requests_to("/api") == []
        assert "wrong-secret" not in str(caught.value)


def test_camel_case_field_names_for_the_request_and_the_answer():
    """Given a provider spelling the grant in camelCase (grantType, clientId, clientSecret; accessToken, expiresIn), form_style fits."""
    with OAuthProvider(CAMEL_CASE_FORM) as provider:
        assert client(provider, None, form_style=CAMEL_CASE_FORM).get_json("/api") == {"token": "tok-1"}
        form = parse_qs(provider.requests_to("/oauth/token")[0].body.decode())
        assert form == {"grantType": ["client_credentials"], "clientId": [CLIENT_ID], "clientSecret": [SECRET]}


def test_an_answer_without_the_token_field_is_a_rejection():
    """Given a token answer that lacks the access token field, then ProviderRejected says so, and the API is never called."""
    with OAuthProvider() as provider:
        provider.route("POST", "/oauth/token", lambda request: json_response(200, {"accessToken": "camel-only"}))
        with pytest.raises(ProviderRejected, match="unusable token answer"):
            client(provider, None).get_json("/api")
        provider.route("POST", "/oauth/token", lambda request: json_response(200, ["not", "an", "object"]))
        with pytest.raises(ProviderRejected, match="unusable token answer"):
            client(provider, None).get_json("/api")
        assert provider.requests_to("/api") == []


def test_client_authentication_by_http_basic():
    """Given basic_auth, then the client id and secret go in an HTTP Basic header (RFC 6749 §2.3.1), not in the form."""
    with OAuthProvider(basic=True) as provider:
        assert client(provider, None, basic_auth=True).get_json("/api") == {"token": "tok-1"}
        assert "client_secret" not in provider.requests_to("/oauth/token")[0].body.decode()


def test_a_connection_test_keeps_its_token_apart_from_the_integration_s(demo):
    """Given a connection test (no integration) and an integration of the same credential, then each has its own token."""
    with OAuthProvider() as provider:
        assert client(provider, None).get_json("/api") == {"token": "tok-1"}
        assert client(provider, demo).get_json("/api") == {"token": "tok-2"}
        assert ProviderCall.objects.filter(url__endswith="/oauth/token").count() == 1  # only the integration's is logged


def test_a_changed_secret_is_a_new_credential_with_its_own_token(demo):
    """Given the secret changes (the provider now accepts the new one), then the old token is not reused for it."""
    global SECRET
    with OAuthProvider() as provider:
        client(provider, demo).get_json("/api")
        old, SECRET = SECRET, "app-secret-rotated-9876543210"
        try:
            assert client(provider, demo).get_json("/api") == {"token": "tok-2"}
        finally:
            SECRET = old
