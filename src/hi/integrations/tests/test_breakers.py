"""Circuit breakers: open after consecutive provider failures, fail fast, half-open, shared through the database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hi.integrations.config import lifecycle
from hi.integrations.core.errors import (
    BreakerOpen,
    ProviderAuthError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from hi.integrations.models import BreakerState, IntegrationState
from hi.integrations.outbound import breakers
from hi.integrations.outbound.http import ProviderClient
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response

OK = json_response(200, {"ok": True})


@pytest.fixture
def fake():
    """A bare fake provider answering GET /x."""
    with FakeProviderServer() as server:
        server.route("GET", "/x", lambda request: OK)
        yield server


@pytest.fixture(autouse=True)
def small_breakers(settings):
    """Breakers that open after 3 failures for half a second; no retries inside a call."""
    settings.HI_BREAKER_FAIL_MAX = 3
    settings.HI_BREAKER_RESET_S = 0.5
    settings.HI_HTTP_RETRIES = 0
    yield settings
    breakers.clear_registry()


def client(fake, integration, **kwargs):
    """A client for the fake provider, with the integration's breaker."""
    return ProviderClient("acme", fake.url, integration=integration, **kwargs)


def trip(fake, integration, failures=3):
    """Make the provider fail until the breaker opens."""
    fake.faults.status = 503
    for _ in range(failures):
        with pytest.raises(ProviderUnavailable) as caught:
            client(fake, integration).get_json("/x")
        assert not isinstance(caught.value, BreakerOpen)


def test_the_breaker_opens_after_the_threshold_and_then_fails_fast(demo, fake):
    trip(fake, demo)
    before = len(fake.requests)
    with pytest.raises(BreakerOpen) as caught:
        client(fake, demo).get_json("/x")
    assert len(fake.requests) == before  # the provider was not called
    row = BreakerState.objects.get(integration=demo)
    assert row.state == "open" and row.fail_counter == 3 and row.opened_at and row.last_transition_at
    assert caught.value.retry_at == row.opened_at + timedelta(seconds=0.5) == breakers.reopen_at(demo)
    assert breakers.is_open(demo) and breakers.breaker_state(demo) == "open"


def test_an_open_breaker_half_opens_after_the_reset_timeout_and_closes_on_success(demo, fake):
    trip(fake, demo)
    time.sleep(0.55)
    assert breakers.breaker_state(demo) == "half-open" and not breakers.is_open(demo)
    fake.faults.status = None
    assert client(fake, demo).get_json("/x") == {"ok": True}
    row = BreakerState.objects.get(integration=demo)
    assert (row.state, row.fail_counter) == ("closed", 0) and breakers.breaker_state(demo) == "closed"


def test_a_failed_trial_call_opens_the_breaker_again(demo, fake):
    trip(fake, demo)
    first_opened = BreakerState.objects.get(integration=demo).opened_at
    time.sleep(0.55)
    with pytest.raises(ProviderUnavailable) as caught:
        client(fake, demo).get_json("/x")
    assert caught.value.status == 503  # the trial call went out
    row = BreakerState.objects.get(integration=demo)
    assert row.state == "open" and row.opened_at > first_opened
    with pytest.raises(BreakerOpen):
        client(fake, demo).get_json("/x")


def test_open_breakers_lists_only_breakers_that_still_fail_fast(demo, fake):
    trip(fake, demo)
    assert list(breakers.open_breakers()) == [{"integration_id": demo.pk}]
    time.sleep(0.55)
    # Waiting for its trial call: work for the integration may go ahead (and make that call).
    assert list(breakers.open_breakers()) == [] and BreakerState.objects.get(integration=demo).state == "open"


def test_a_new_process_picks_up_an_open_breaker_from_the_database(demo, fake):
    trip(fake, demo)
    breakers.clear_registry()  # what a freshly started worker has
    before = len(fake.requests)
    with pytest.raises(BreakerOpen):
        client(fake, demo).get_json("/x")
    assert len(fake.requests) == before


def test_a_breaker_opened_by_another_process_is_seen_once_the_cache_is_stale(demo, fake, settings):
    settings.HI_BREAKER_REFRESH_S = 60
    assert client(fake, demo).get_json("/x") == {"ok": True}  # this process now has the row in memory
    BreakerState.objects.update_or_create(integration=demo, defaults={"state": "open", "opened_at": timezone.now()})
    assert client(fake, demo).get_json("/x") == {"ok": True}  # still fresh: no query per call
    settings.HI_BREAKER_REFRESH_S = 0
    with pytest.raises(BreakerOpen):
        client(fake, demo).get_json("/x")


@pytest.mark.parametrize(
    "answer,error",
    [
        (json_response(422, {"e": "bad"}), ProviderRejected),
        (json_response(401, {"e": "no"}), ProviderAuthError),
        (json_response(429, {"e": "slow"}), ProviderRateLimited),
    ],
)
def test_refusals_do_not_trip_the_breaker(demo, fake, answer, error):
    fake.route("GET", "/x", lambda request: answer)
    for _ in range(5):
        with pytest.raises(error):
            client(fake, demo).get_json("/x")
    assert len(fake.requests_to("/x")) == 5
    assert breakers.breaker_state(demo) == "closed" and not breakers.is_open(demo)


def test_timeouts_count_as_failures(demo, fake):
    fake.faults.delay_s = 0.3
    for _ in range(3):
        with pytest.raises(ProviderTimeout):
            client(fake, demo, timeout=(1, 0.1)).get_json("/x")
    assert breakers.is_open(demo)


def test_a_success_resets_the_count(demo, fake):
    trip(fake, demo, failures=2)
    fake.faults.status = None
    client(fake, demo).get_json("/x")
    trip(fake, demo, failures=2)
    assert BreakerState.objects.get(integration=demo).fail_counter == 2 and not breakers.is_open(demo)


def test_breakers_are_per_integration(demo, fake, workspace, sim):
    from hi.conftest import demo_attributes
    from hi.integrations.config import setup
    from hi.integrations.types import IntegrationType

    other = setup.add_integration(
        workspace, IntegrationType.DEMO, "Second", demo_attributes(sim, key="demo-key-2"), actor="t"
    )
    trip(fake, demo)
    fake.faults.status = None
    assert client(fake, other).get_json("/x") == {"ok": True}
    assert breakers.breaker_state(other) == "closed"


def test_an_open_breaker_makes_activation_wait(demo, sim):
    integration = lifecycle.deactivate(demo, "test")
    BreakerState.objects.update_or_create(integration=demo, defaults={"state": "open", "opened_at": timezone.now()})
    breakers.clear_registry()
    before = len(sim.requests)
    integration = lifecycle.activate(integration, "test")
    assert integration.state == IntegrationState.SETUP_RETRY and "paused after" in integration.reason
    assert len(sim.requests) == before


def test_an_operator_can_close_a_breaker(demo, fake):
    trip(fake, demo)
    breakers.reset_breaker(demo)
    fake.faults.status = None
    assert client(fake, demo).get_json("/x") == {"ok": True}
    assert BreakerState.objects.get(integration=demo).state == "closed"


@pytest.mark.django_db(transaction=True)
def test_calls_to_one_integration_run_concurrently(workspace, sim):
    from hi.conftest import demo_attributes
    from hi.integrations.config import setup
    from hi.integrations.types import IntegrationType

    integration = setup.add_integration(workspace, IntegrationType.DEMO, "Concurrent", demo_attributes(sim), actor="t")
    sim.faults.delay_s = 0.4
    results = []

    def call():
        """Call the simulator once and record the outcome."""
        try:
            results.append(
                ProviderClient(
                    "demo", sim.url, integration=integration, headers={"Authorization": "Bearer demo-key"}
                ).get_json("/api/v1/account")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # pybreaker's call() would hold the breaker's lock for each 0.4 s call (1.6 s in all).
    assert time.monotonic() - started < 1.2
    assert len(results) == 4
