"""The iFood simulator's webhook mode, control endpoints, order placer and the hi_simulator command."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests

from hi.integrations.testing.fakeserver import FakeProviderServer, FakeRequest, json_response
from hi.integrations.testing.waiting import wait_for
from hi.services.ifood.simulator import IFoodSimulator
from hi.services.ifood.simulator.webhook import sign

ROOT = Path(__file__).resolve().parents[5]
SECRET = "hook-secret"


class Receiver(FakeProviderServer):
    """A local webhook receiver answering the statuses queued in `answers` (then 202)."""

    def __init__(self) -> None:
        """A receiver answering 202 unless told otherwise."""
        super().__init__()
        self.answers: list[int] = []
        self.route("POST", "/hook", self.receive)

    def receive(self, request: FakeRequest):
        """POST /hook: the next queued status (202 by default); a keepalive gets only its first merchant back."""
        status = self.answers.pop(0) if self.answers else 202
        if status == 202 and request.json().get("code") == "KEEPALIVE" and "merchantIds" in request.json():
            return json_response(202, {"merchantIds": request.json()["merchantIds"][:1]})
        return json_response(status, {} if status < 300 else {"error": "down"})

    def hooks(self, code: str | None = None) -> list[FakeRequest]:
        """The recorded POSTs to /hook, those with `code` when given."""
        return [r for r in self.requests_to("/hook") if code is None or r.json()["code"] == code]


@pytest.fixture
def sim() -> Iterator[IFoodSimulator]:
    """A running iFood simulator, stopped after the test."""
    server = IFoodSimulator(credentials={"app": SECRET}, seed=1).start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver, stopped after the test."""
    server = Receiver().start()
    yield server
    server.stop()


def test_webhook_delivers_each_event_signed_in_its_own_request(sim, receiver):
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=None)
    order_id = sim.place_order()
    assert wait_for(lambda: len(receiver.hooks()) == 1)
    request = receiver.hooks()[0]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-ifood-signature"] == sign(request.body, SECRET)
    assert request.json()["orderId"] == order_id and request.json()["code"] == "PLC"
    assert wait_for(lambda: sim.webhook.delivered == [request.json()["id"]])


def test_webhook_retries_5xx_and_drops_4xx(sim, receiver):
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=None, retry_initial_s=0.02)
    receiver.answers = [500, 503]
    sim.place_order()
    assert wait_for(lambda: len(sim.webhook.delivered) == 1)
    assert [a["status"] for a in sim.webhook.attempts] == [500, 503, 202]
    receiver.answers = [400]
    sim.place_order()
    assert wait_for(lambda: len(sim.webhook.dropped) == 1)
    assert len(receiver.hooks()) == 4  # the 4xx is not retried


def test_webhook_gives_up_after_the_retry_window(sim, receiver):
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=None, retry_initial_s=0.05, retry_window_s=900)
    receiver.answers = [500] * 1000
    sim.place_order()
    assert wait_for(lambda: len(sim.webhook.attempts) >= 2)
    sim.advance(901)
    assert wait_for(lambda: len(sim.webhook.dropped) == 1)


def test_webhook_retries_a_receiver_slower_than_the_deadline(sim, receiver):
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=None, timeout_s=0.2, retry_initial_s=0.02)
    receiver.faults.delay_s = 0.4
    sim.place_order()
    assert wait_for(lambda: len(sim.webhook.attempts) >= 2)
    receiver.faults.delay_s = 0
    assert wait_for(lambda: len(sim.webhook.delivered) == 1)
    assert sim.webhook.attempts[0]["status"] is None and sim.webhook.attempts[0]["error"] == "ReadTimeout"


def test_webhook_invalid_signature_and_spaced_body_knobs(sim, receiver):
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=None)
    sim.webhook_bad_signature = True
    sim.place_order()
    assert wait_for(lambda: len(receiver.hooks()) == 1)
    bad = receiver.hooks()[0]
    assert bad.headers["x-ifood-signature"] != sign(bad.body, SECRET)
    sim.webhook_bad_signature, sim.webhook_spaced_body = False, True
    sim.place_order()
    assert wait_for(lambda: len(receiver.hooks()) == 2)
    spaced = receiver.hooks()[1]
    assert b'", "' in spaced.body and spaced.headers["x-ifood-signature"] == sign(spaced.body, SECRET)
    compact = json.dumps(spaced.json(), sort_keys=True, separators=(",", ":")).encode()
    assert sign(compact, SECRET) != spaced.headers["x-ifood-signature"]  # re-serializing breaks verification


def test_webhook_keepalive_puts_merchants_online(sim, receiver):
    merchants = list(sim.merchants)
    assert not any(sim.is_connected(m) for m in merchants)
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=0.05)
    assert wait_for(lambda: receiver.hooks("KEEPALIVE"))
    keepalive = receiver.hooks("KEEPALIVE")[0].json()
    assert keepalive["fullCode"] == "KEEPALIVE" and keepalive["id"]
    assert wait_for(lambda: all(sim.is_connected(m) for m in merchants))
    sim.disable_webhook()
    sim.advance(sim.presence_window_s + 1)
    sim.configure_webhook(f"{receiver.url}/hook", keepalive_s=0.05, per_merchant=True)
    assert wait_for(lambda: sim.is_connected(merchants[0]))
    assert receiver.hooks("KEEPALIVE")[-1].json()["merchantIds"] == merchants
    assert not sim.is_connected(merchants[1])  # the answer listed only the first


def test_control_endpoints(sim, receiver):
    base = f"{sim.url}/_simulator"
    knobs = requests.post(f"{base}/faults", json={"duplicates": True, "strike_deliveries": 5, "status": 503}, timeout=5).json()
    assert knobs["duplicates"] and knobs["strike_deliveries"] == 5 and sim.strike_rule.deliveries == 5
    assert requests.get(f"{base}/state", timeout=5).status_code == 200  # control paths ignore the 503 fault
    assert requests.post(f"{sim.url}/authentication/v1.0/oauth/token", timeout=5).status_code == 503
    assert requests.post(f"{base}/faults", json={"duplicates": "yes"}, timeout=5).status_code == 400
    assert requests.post(f"{base}/faults", json={"volume": 11}, timeout=5).status_code == 400
    assert not sim.out_of_order and sim.faults.status == 503  # a bad request changes nothing
    requests.post(f"{base}/faults", json={"status": None, "duplicates": False, "expire_tokens": True, "advance_s": 10}, timeout=5)
    placed = requests.post(f"{base}/orders", json={"count": 3, "order_type": "TAKEOUT", "bad_totals": True}, timeout=5)
    assert placed.status_code == 201 and len(placed.json()["order_ids"]) == 3
    order_id = placed.json()["order_ids"][0]
    assert sim.orders[order_id]["orderType"] == "TAKEOUT"
    assert requests.post(f"{base}/orders", json={"count": 1, "colour": "red"}, timeout=5).status_code == 400
    car = requests.post(f"{base}/orders/{order_id}/cancellation-request", json={"details": "Mudei de ideia"}, timeout=5)
    assert car.status_code == 202 and car.json()["code"] == "CAR" and car.json()["metadata"]["details"] == "Mudei de ideia"
    assert requests.post(f"{base}/orders/{order_id}/conclude", timeout=5).status_code == 409  # still PLACED
    assert requests.post(f"{base}/orders/{order_id}/events", json={"code": "ZZZ"}, timeout=5).json()["code"] == "ZZZ"
    assert requests.post(f"{base}/orders/nope/conclude", timeout=5).status_code == 404
    merchant = next(iter(sim.merchants))
    assert requests.post(f"{base}/merchants/{merchant}/state", json={"state": "ERROR"}, timeout=5).json()["state"] == "ERROR"
    hook = requests.post(f"{base}/webhook", json={"url": f"{receiver.url}/hook", "keepalive_s": None}, timeout=5).json()
    assert hook["url"] == f"{receiver.url}/hook" and sim.webhook is not None
    assert requests.post(f"{base}/webhook", json={"url": None}, timeout=5).status_code == 200 and sim.webhook is None
    state = requests.get(f"{base}/state", timeout=5).json()
    assert state["orders"]["total"] == 3 and state["queues"]["app"]["events"] == 5


def test_placing_orders_in_the_background(sim):
    sim.start_placing(0.02)
    assert wait_for(lambda: len(sim.orders) >= 3)
    sim.stop_placing()
    count = len(sim.orders)
    assert all(e["code"] == "PLC" for e in sim.events("app")) and len(sim.events("app")) == count


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_simulator(*args: str) -> tuple[subprocess.Popen, list[str]]:
    """`manage.py hi_simulator …` as a subprocess; returns it with the lines it printed before serving."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "hi_simulator", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, []


def read_until(process: subprocess.Popen, lines: list[str], needle: str) -> None:
    """Read the process's output into `lines` until one holds `needle` (or fail with it all)."""
    for line in process.stdout:
        lines.append(line)
        if needle in line:
            return
    raise AssertionError("".join(lines))


def stop(process: subprocess.Popen) -> None:
    """Terminate the process and wait for it."""
    process.terminate()
    process.wait(timeout=10)


def test_hi_simulator_runs_the_demo_simulator():
    port = free_port()
    process, lines = run_simulator("demo", "--port", str(port))
    try:
        read_until(process, lines, "Demo provider simulator on")
        answer = requests.get(f"http://127.0.0.1:{port}/api/v1/account", headers={"Authorization": "Bearer demo-key"}, timeout=5)
        assert answer.json()["id"] == "acct-demo"
    finally:
        stop(process)


def test_hi_simulator_runs_the_ifood_simulator_with_its_options():
    port, merchant = free_port(), "44444444-4444-4444-8444-444444444444"
    process, lines = run_simulator("ifood", "--port", str(port), "--client-id", "cli-app", "--client-secret", "cli-secret",
                                   "--merchant", merchant, "--place-every", "0.1")
    try:
        read_until(process, lines, "placing a new order")
        assert any("cli-app" in line for line in lines) and any(merchant in line for line in lines)
        base = f"http://127.0.0.1:{port}"
        token = requests.post(f"{base}/authentication/v1.0/oauth/token", timeout=5, data={
            "grantType": "client_credentials", "clientId": "cli-app", "clientSecret": "cli-secret"}).json()["accessToken"]
        poll = lambda: requests.get(f"{base}/events/v1.0/events:polling", headers={"Authorization": f"Bearer {token}"}, timeout=5)  # noqa: E731
        assert wait_for(lambda: poll().status_code == 200)
        assert {e["merchantId"] for e in poll().json()} == {merchant}
    finally:
        stop(process)


def test_hi_simulator_refuses_an_unknown_type():
    process = subprocess.run([sys.executable, str(ROOT / "manage.py"), "hi_simulator", "nope"], capture_output=True, text=True, timeout=60)
    assert process.returncode != 0 and "invalid choice" in process.stderr
