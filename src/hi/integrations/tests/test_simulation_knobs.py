"""Every simulator's control endpoint: the standard fault knobs of POST /_simulator/faults on the fake provider itself."""
from __future__ import annotations

import pytest
import requests

from hi.integrations.simulation import KNOBS, STANDARD_KNOBS, FakeProviderServer, json_response


@pytest.fixture
def fake():
    """A bare fake provider with one route."""
    server = FakeProviderServer()
    server.route("GET", "/ping", lambda request: json_response(200, {"ok": True}))
    with server:
        yield server


def knobs(fake: FakeProviderServer, **values) -> requests.Response:
    """POST the knobs to the control endpoint."""
    return requests.post(f"{fake.url}/_simulator/faults", json=values, timeout=5)


def ping(fake: FakeProviderServer) -> requests.Response:
    """One request to the provider's API."""
    return requests.get(f"{fake.url}/ping", timeout=5)


def test_the_control_endpoint_lists_every_knob_with_its_value(fake):
    # when
    answer = requests.get(f"{fake.url}/_simulator/faults", timeout=5)
    # then
    assert answer.status_code == 200
    assert set(answer.json()) == set(KNOBS) >= set(STANDARD_KNOBS)
    assert answer.json()["status"] is None and answer.json()["auth_refused"] is False


def test_auth_refused_answers_401_until_cleared(fake):
    # when
    assert knobs(fake, auth_refused=True).json()["auth_refused"] is True
    # then
    assert ping(fake).status_code == 401
    knobs(fake, auth_refused=False)
    assert ping(fake).json() == {"ok": True}


def test_rate_limited_answers_429_with_the_retry_after_asked_for(fake):
    # when
    knobs(fake, rate_limited=True, retry_after_s=7)
    # then
    answer = ping(fake)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "7")


def test_an_outage_status_and_latency_are_set_through_the_endpoint(fake):
    # when
    knobs(fake, status=503, delay_s=0.05)
    # then
    assert ping(fake).status_code == 503
    assert (fake.faults.status, fake.faults.delay_s) == (503, 0.05)


def test_knobs_left_out_keep_their_value_and_reset_puts_every_knob_back(fake):
    # given
    knobs(fake, status=503)
    # when a second post names another knob
    knobs(fake, fail_next=2)
    # then the first is kept
    assert (fake.faults.status, fake.faults.fail_next) == (503, 2)
    # and reset clears both before applying what it names
    assert knobs(fake, reset=True, delay_s=0).json()["status"] is None
    assert (fake.faults.status, fake.faults.fail_next) == (None, 0)


@pytest.mark.parametrize("body", [{"status": "503"}, {"status": 42}, {"auth_refused": "yes"}, {"retry_after_s": -1},
                                  {"volume": 11}, {"status": 503, "delay_s": "slow"}])
def test_a_bad_knob_is_a_400_naming_it_and_changes_nothing(fake, body):
    # when
    answer = knobs(fake, **body)
    # then
    assert answer.status_code == 400 and answer.json()["error"]
    assert fake.faults.status is None and fake.faults.delay_s == 0 and fake.faults.auth_refused is False


def test_a_body_that_is_not_an_object_is_a_400(fake):
    # when
    answer = requests.post(f"{fake.url}/_simulator/faults", json=["status", 503], timeout=5)
    # then
    assert answer.status_code == 400 and fake.faults.status is None
