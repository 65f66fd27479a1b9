"""The webhooks service's simulator: an endpoint that verifies Standard Webhooks signatures as the specification says."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hi.integrations.api import standard_webhooks
from hi.services.webhook.simulator import DEFAULT_SECRET, EndpointSimulator

ROOT = Path(__file__).resolve().parents[5]
OTHER = "whsec_b3RoZXItc2VjcmV0LWZvci13ZWJob29rLXRlc3Rz"


@pytest.fixture
def endpoint():
    """A running endpoint verifying with the default secret."""
    with EndpointSimulator() as server:
        yield server


def post(endpoint: EndpointSimulator, body: bytes, headers: dict[str, str]) -> requests.Response:
    """POST a delivery to the endpoint."""
    return requests.post(endpoint.endpoint, data=body, headers={"Content-Type": "application/json", **headers}, timeout=5)


def test_a_delivery_signed_by_hi_is_accepted_and_listed(endpoint):
    # given
    body = b'{"type":"order.created","timestamp":"2026-12-03T10:00:00.000000Z","data":{"name":"Jos\\u00e9"}}'
    headers = standard_webhooks.headers("msg_1", int(time.time()), body, [OTHER, DEFAULT_SECRET])
    # when
    answer = post(endpoint, body, headers)
    # then
    assert answer.status_code == 200
    listed = requests.get(f"{endpoint.url}/_simulator/deliveries", timeout=5).json()["received"]
    assert listed == [json.loads(body)] and len(endpoint.deliveries()) == 1 and endpoint.pings() == []


@pytest.mark.parametrize(("secret", "age_s", "drop", "reason"), [
    (OTHER, 0, "", "no v1 signature matches the body under the secret"),
    (DEFAULT_SECRET, 3600, "", "webhook-timestamp is not within five minutes of now"),
    (DEFAULT_SECRET, 0, "webhook-id", "a webhook-id, webhook-timestamp or webhook-signature header is missing"),
])
def test_a_delivery_that_does_not_verify_is_refused_with_the_reason(endpoint, secret, age_s, drop, reason):
    # given
    body = b'{"type":"ping","timestamp":"2026-12-03T10:00:00.000000Z","data":{}}'
    headers = standard_webhooks.headers("msg_2", int(time.time()) - age_s, body, [secret])
    headers.pop(drop, None)
    # when
    answer = post(endpoint, body, headers)
    # then
    assert (answer.status_code, answer.json()) == (401, {"error": "invalid signature", "reason": reason})


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hi_simulator_serves_the_endpoint_with_the_secret_given():
    # given
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "hi_simulator", "webhook", "--port", str(port),
                                "--secret", OTHER], env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # when
        banner = process.stdout.readline()
        body = b'{"type":"ping","timestamp":"2026-12-03T10:00:00.000000Z","data":{}}'
        answer = requests.post(f"http://127.0.0.1:{port}/hook", data=body, timeout=5,
                               headers=standard_webhooks.headers("msg_3", int(time.time()), body, [OTHER]))
        # then
        assert banner.startswith(f"Webhook endpoint simulator on http://127.0.0.1:{port}/hook (secret {OTHER};")
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
