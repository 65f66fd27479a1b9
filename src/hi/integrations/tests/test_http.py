"""The provider HTTP client: timeouts, safe retries with backoff, Retry-After, typed errors and the call log."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from hi.integrations.core.errors import ProviderAuthError, ProviderRateLimited, ProviderRejected, ProviderTimeout, ProviderUnavailable
from hi.integrations.core.redaction import REDACTED
from hi.integrations.models import ProviderCall
from hi.integrations.outbound.calllog import prune_calls, redact_url
from hi.integrations.outbound.http import DEFAULT_TIMEOUT, ProviderClient, client_for_integration
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response

OK = json_response(200, {"ok": True})


@pytest.fixture
def fake():
    """A bare fake provider."""
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fast_retries(settings):
    """Three retries with millisecond backoff, so that tests count attempts without waiting."""
    settings.HI_HTTP_RETRIES = 3
    settings.HI_HTTP_BACKOFF_FACTOR = 0.001
    settings.HI_HTTP_BACKOFF_JITTER = 0
    return settings


def answers(*sequence):
    """A route answering each request with the next answer of `sequence` (the last one repeats)."""
    queue = list(sequence)

    def route(request):
        """The next queued answer; the last one repeats."""
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


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
    if answer[0] == 302:
        assert len(fake.requests) == 1  # never followed


def test_a_slow_provider_times_out_and_an_absent_one_is_unavailable(fake):
    fake.route("GET", "/x", lambda request: OK)
    fake.faults.delay_s = 1
    with pytest.raises(ProviderTimeout):
        ProviderClient("acme", fake.url, timeout=(1, 0.2)).get_json("/x")
    # The provider got the request and may still be working on it: a read timeout is not retried.
    assert len(fake.requests_to("/x")) == 1
    with pytest.raises(ProviderUnavailable) as caught:
        ProviderClient("acme", "http://127.0.0.1:9").get_json("/x")
    assert not isinstance(caught.value, ProviderTimeout)


def test_timeouts_are_always_set():
    assert ProviderClient("acme", "http://127.0.0.1:9", timeout=None).timeout == DEFAULT_TIMEOUT
    assert ProviderClient("acme", "http://127.0.0.1:9").timeout == DEFAULT_TIMEOUT


def test_requests_carry_a_user_agent_and_json_answers_parse(fake):
    fake.route("GET", "/x", lambda request: json_response(200, {"ok": True}))
    assert ProviderClient("acme", fake.url).get_json("/x") == {"ok": True}
    assert fake.requests[-1].headers["user-agent"].startswith("hi/")
    fake.route("GET", "/y", lambda request: (200, {}, b"<html>"))
    with pytest.raises(ProviderRejected, match="not JSON"):
        ProviderClient("acme", fake.url).get_json("/y")


def test_a_get_is_retried_through_server_errors_until_it_succeeds(fake):
    fake.route("GET", "/x", lambda request: OK)
    fake.faults.fail_next, fake.faults.fail_status = 2, 503
    assert ProviderClient("acme", fake.url).get_json("/x") == {"ok": True}
    assert len(fake.requests_to("/x")) == 3


def test_retries_stop_at_the_limit_and_the_last_answer_is_the_error(fake, settings):
    settings.HI_HTTP_RETRIES = 2
    fake.faults.status = 504
    with pytest.raises(ProviderUnavailable) as caught:
        ProviderClient("acme", fake.url).get_json("/x")
    assert caught.value.status == 504 and "injected failure" in caught.value.excerpt
    assert len(fake.requests_to("/x")) == 3


def test_a_post_is_not_retried_unless_the_caller_says_it_is_idempotent(fake):
    fake.route("POST", "/orders", lambda request: json_response(201, {"id": 1}))
    fake.faults.fail_next = 1
    with pytest.raises(ProviderUnavailable):
        ProviderClient("acme", fake.url).request("POST", "/orders", json={"n": 1})
    assert len(fake.requests_to("/orders")) == 1
    fake.faults.fail_next = 1
    answer = ProviderClient("acme", fake.url).request("POST", "/orders", json={"n": 2}, idempotent=True)
    assert answer.status_code == 201
    assert [r.json() for r in fake.requests_to("/orders")] == [{"n": 1}, {"n": 2}, {"n": 2}]


def test_backoff_grows_exponentially(fake, settings):
    settings.HI_HTTP_BACKOFF_FACTOR = 0.1
    fake.faults.status = 503
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        ProviderClient("acme", fake.url).get_json("/x")
    # urllib3 retries the first time at once, then waits factor * 2**n: 0 + 0.2 + 0.4 seconds.
    assert 0.6 <= time.monotonic() - started < 2
    assert len(fake.requests_to("/x")) == 4


def test_retry_after_is_honoured(fake):
    fake.route("GET", "/x", answers(json_response(503, {}, {"Retry-After": "1"}), OK))
    started = time.monotonic()
    assert ProviderClient("acme", fake.url).get_json("/x") == {"ok": True}
    assert time.monotonic() - started >= 1
    assert len(fake.requests_to("/x")) == 2


def test_a_retry_after_beyond_the_cap_is_handed_to_the_caller_at_once(fake, settings):
    settings.HI_HTTP_RETRY_AFTER_MAX_S = 2
    fake.route("GET", "/x", answers(json_response(429, {}, {"Retry-After": "120"}), OK))
    started = time.monotonic()
    with pytest.raises(ProviderRateLimited) as caught:
        ProviderClient("acme", fake.url).get_json("/x")
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 120 and len(fake.requests_to("/x")) == 1


def test_a_rate_limit_without_retry_after_backs_off_and_retries(fake):
    fake.route("GET", "/x", answers(json_response(429, {}), OK))
    assert ProviderClient("acme", fake.url).get_json("/x") == {"ok": True}
    assert len(fake.requests_to("/x")) == 2


def test_secrets_never_reach_error_messages(fake):
    fake.route("GET", "/x", lambda request: json_response(422, {"echo": request.headers["x-api-key"]}))
    with pytest.raises(ProviderRejected) as caught:
        ProviderClient("acme", fake.url, headers={"X-Api-Key": "k-live-123456"}).get_json("/x")
    assert "k-live-123456" not in str(caught.value) and REDACTED in caught.value.excerpt


def test_urls_lose_userinfo_and_secret_query_values():
    url = "https://bob:pw@api.example/v1/x?token=abc&page=2&api_key=k1&X-Amz-Signature=s&code=c&q=s3cr3t-value#frag"
    clean = redact_url(url, ["s3cr3t-value"])
    assert clean == (
        f"https://api.example/v1/x?token={REDACTED}&page=2&api_key={REDACTED}"
        f"&X-Amz-Signature={REDACTED}&code={REDACTED}&q={REDACTED}"
    )


def test_each_attempt_is_logged_with_a_redacted_url(demo, fake):
    fake.route("GET", "/x", lambda request: OK)
    fake.faults.fail_next = 2
    host = fake.url.removeprefix("http://")
    client = ProviderClient("acme", f"http://user:pw@{host}", integration=demo, secrets=["s3cr3t-value"])
    client.request("GET", "/x", params={"access_token": "abc", "page": 2, "note": "s3cr3t-value"})
    calls = list(ProviderCall.objects.filter(integration=demo, url__contains="/x").order_by("attempt"))
    assert [(c.attempt, c.status, c.error_class) for c in calls] == [
        (1, 503, "ProviderUnavailable"),
        (2, 503, "ProviderUnavailable"),
        (3, 200, ""),
    ]
    assert calls[0].url == f"http://{host}/x?access_token={REDACTED}&page=2&note={REDACTED}"
    assert calls[0].duration_ms is None and calls[2].duration_ms is not None and calls[2].ok
    assert all(c.method == "GET" and c.workspace_id == demo.workspace_id for c in calls)


def test_failed_connections_are_logged_too(demo, fake):
    url = fake.url
    fake.stop()
    with pytest.raises(ProviderUnavailable):
        ProviderClient("acme", url, integration=demo).get_json("/gone")
    calls = ProviderCall.objects.filter(integration=demo, url__endswith="/gone").order_by("attempt")
    assert [(c.attempt, c.status, c.error_class) for c in calls] == [
        (n, None, "ProviderUnavailable") for n in (1, 2, 3, 4)
    ]


def test_the_demo_gateway_logs_its_calls_under_the_integration(demo, sim):
    paths = set(ProviderCall.objects.filter(integration=demo).values_list("method", "url"))
    assert ("GET", f"{sim.url}/api/v1/account") in paths and ("PUT", f"{sim.url}/api/v1/connection") in paths
    assert all("demo-key" not in url for _, url in paths)


def test_prune_deletes_calls_older_than_the_retention(demo, settings):
    settings.HI_CALL_LOG_DAYS = 3
    now = timezone.now()
    ProviderCall.objects.all().delete()
    for days in (1, 2, 4, 10):
        ProviderCall.objects.create(
            workspace=demo.workspace, integration=demo, at=now - timedelta(days=days), method="GET", url="u"
        )
    assert prune_calls(timedelta(days=5)) == 1
    assert prune_calls() == 1
    assert sorted((now - at).days for at in ProviderCall.objects.values_list("at", flat=True)) == [1, 2]


@pytest.mark.parametrize(("body", "words"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper than"), (b'{"n": NaN}', "NaN is not a JSON number")])
def test_get_json_refuses_absurd_nesting_and_nan_with_a_typed_error(fake, body, words):
    """Given an answer nested 100,000 deep (or holding NaN), then ProviderRejected says why; never a RecursionError."""
    fake.route("GET", "/deep", lambda request: (200, {"Content-Type": "application/json"}, body))
    with pytest.raises(ProviderRejected, match=words):
        ProviderClient("acme", fake.url).get_json("/deep")


@pytest.mark.parametrize(("body", "words"), [(b'{"n": NaN}', "NaN is not a JSON number"), (b"<html>", "not usable JSON")])
def test_request_json_reads_a_post_s_answer_as_safely_as_get_json(fake, body, words):
    """Given a POST answered with NaN (or HTML), then request_json raises ProviderRejected; a JSON answer is read."""
    fake.route("POST", "/bad", lambda request: (200, {"Content-Type": "application/json"}, body))
    fake.route("POST", "/good", lambda request: json_response(201, {"id": 7}))
    with pytest.raises(ProviderRejected, match=words):
        ProviderClient("acme", fake.url).request_json("POST", "/bad", json={})
    assert ProviderClient("acme", fake.url).request_json("POST", "/good", json={"a": 1}) == {"id": 7}


@pytest.mark.django_db
def test_client_for_integration_keeps_one_client_per_integration_and_none_gives_a_bare_one(demo, fake):
    """Given an integration, then its client is kept (its breaker, its call log); given None (a connection test), a fresh bare one."""
    kept = client_for_integration(demo, "acme", fake.url, timeout=(1, 2))
    assert client_for_integration(demo, "acme", fake.url, timeout=(1, 2)) is kept and kept.integration == demo
    bare = client_for_integration(None, "acme", fake.url, timeout=(1, 2))
    assert bare.integration is None and client_for_integration(None, "acme", fake.url, timeout=(1, 2)) is not bare
