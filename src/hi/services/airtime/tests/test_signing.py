"""Every request to the provider is signed: hex HMAC-SHA256 of its exact body in X-Signature, checked against vectors computed apart."""
from __future__ import annotations

import hashlib
import hmac

import pytest
import requests

from hi.services.airtime.client import AirtimeClient
from hi.services.airtime.jobs import check_pending

from .conftest import KEY, SIGNING_SECRET, confirm, new_order, run_directives

pytestmark = pytest.mark.django_db

# RFC 4231, test case 2: HMAC-SHA256 with the key "Jefe" over "what do ya want for nothing?".
RFC_4231_KEY, RFC_4231_DATA = "Jefe", b"what do ya want for nothing?"
RFC_4231_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_the_client_s_signature_matches_the_rfc_4231_reference_vector():
    # given the client of an account whose signing secret is RFC 4231's key, and a request carrying its data
    client = AirtimeClient({"api_base_url": "https://airtime.example", "api_key": "k", "signing_secret": RFC_4231_KEY})
    request = requests.Request("POST", "https://airtime.example/issue", data=RFC_4231_DATA).prepare()
    # when / then
    assert client.signer(request).headers["X-Signature"] == RFC_4231_SHA256


def test_every_request_carries_the_key_and_the_signature_of_its_exact_body(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given a purchase that stays pending, so hi sends a GET /balance, a POST /issue and a GET /status
    sim.outcome = "pending"
    confirm(new_order(workspace, ("AIR-CLARO-10", "1", 1000)), django_capture_on_commit_callbacks)
    run_directives(airtime)
    check_pending(airtime)
    # then each request, whatever its method, is signed over the bytes the provider received (none for a GET)
    sent = [r for r in sim.requests if not r.path.startswith("/_simulator/")]
    assert {r.path.split("/")[1] for r in sent} == {"balance", "issue", "status"}
    for request in sent:
        expected = hmac.new(SIGNING_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert (request.headers["x-api-key"], request.headers["x-signature"]) == (KEY, expected)
    assert [r.body for r in sent if r.method == "GET"] == [b""] * (len(sent) - 1)


def test_the_simulator_refuses_a_body_signed_for_another_body(sim):
    # given a body signed correctly, and another one sent with its signature
    signed = b'{"product_id":"claro-br"}'
    headers = {"X-API-Key": KEY, "X-Signature": hmac.new(SIGNING_SECRET.encode(), signed, hashlib.sha256).hexdigest()}
    # when
    answer = requests.post(f"{sim.url}/issue", data=b'{"product_id":"vivo-br"}', headers=headers, timeout=5)
    # then
    assert answer.status_code == 401 and answer.json() == {"error": "invalid signature"} and sim.transactions == {}
