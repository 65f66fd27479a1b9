"""The iFood simulator speaks iFood's wire format: tokens, polling, acknowledgment, orders, actions, merchants."""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Iterator

import pytest
import requests

from hi.services.ifood.simulator import IFoodSimulator
from hi.services.ifood.simulator.data import iso_utc
from hi.services.ifood.simulator.webhook import sign, webhook_body

M1, M2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
CREDENTIALS = {"app-a": "secret-a", "app-b": "secret-b"}
POLL, ACK = "/events/v1.0/events:polling", "/events/v1.0/events/acknowledgment"
OLD_POLL, OLD_ACK = "/order/v1.0/events:polling", "/order/v1.0/events/acknowledgment"


class Clock:
    """A fake clock the simulator reads."""

    def __init__(self) -> None:
        """A clock at a fixed time."""
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        """The clock's time."""
        return self.t


@pytest.fixture
def sim() -> Iterator[IFoodSimulator]:
    """app-a sees both merchants, app-b only M1; a fake clock."""
    server = IFoodSimulator(credentials=CREDENTIALS, merchants={M1: "Cantina", M2: "Açaí"},
                            grants={"app-b": [M1]}, seed=42, clock=Clock()).start()
    yield server
    server.stop()


class Api:
    """A client of the simulator holding one credential's token."""

    def __init__(self, sim: IFoodSimulator, client_id: str = "app-a") -> None:
        """A logged-in session of `client_id` on `sim`."""
        self.sim, self.client_id = sim, client_id
        self.session = requests.Session()
        self.login()

    def login(self) -> None:
        """Get a token and send it from now on."""
        answer = self.session.post(f"{self.sim.url}/authentication/v1.0/oauth/token", timeout=5, data={
            "grantType": "client_credentials", "clientId": self.client_id, "clientSecret": CREDENTIALS[self.client_id]})
        assert answer.status_code == 200, answer.text
        self.session.headers["Authorization"] = f"Bearer {answer.json()['accessToken']}"

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET a path of the simulator."""
        return self.session.get(f"{self.sim.url}{path}", timeout=5, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        """POST to a path of the simulator."""
        return self.session.post(f"{self.sim.url}{path}", timeout=5, **kwargs)

    def poll(self, path: str = POLL, **kwargs) -> list[dict]:
        """Poll once: the events, or [] on 204."""
        answer = self.get(path, **kwargs)
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.status_code == 200 else []

    def ack(self, events: list[dict], path: str = ACK) -> None:
        """Acknowledge the events."""
        assert self.post(path, json=[{"id": e["id"]} for e in events]).status_code == 202

    def details(self, order_id: str) -> dict:
        """The order's details, money as Decimal."""
        answer = self.get(f"/order/v1.0/orders/{order_id}")
        assert answer.status_code == 200, answer.text
        return json.loads(answer.text, parse_float=Decimal)

    def act(self, order_id: str, action: str, **kwargs) -> requests.Response:
        """POST an action on an order."""
        return self.post(f"/order/v1.0/orders/{order_id}/{action}", **kwargs)


def codes(events: list[dict]) -> list[str]:
    """The events' codes, in order."""
    return [e["code"] for e in events]


def test_the_documented_signature_vector():
    body = (b'{"code":"PLC","createdAt":"2023-02-20T18:19:03.20162269Z","fullCode":"PLACED","id":"a38ba215-f949-4b2c-982a-0582a9d0c10e",'
            b'"merchantId":"cad65e8f-6fc6-438a-b159-e64a902a6b9a","orderId":"2c97e104-35ed-4c18-85d7-854a40b6b9e3"}')
    assert sign(body, "dummysecret") == "6f9ed23a7b505a3b6907c5f6eb2ad1b056fbf35a643d365a9a072ed7aabca153"
    # The simulator serializes events the way that body was: compact, keys sorted.
    assert webhook_body(json.loads(body)) == body


def test_created_at_is_utc_with_trailing_fraction_zeros_dropped():
    assert iso_utc(1.5) == "1970-01-01T00:00:01.5Z"
    assert iso_utc(2.0) == "1970-01-01T00:00:02Z"
    assert iso_utc(1_676_917_143.20162269).startswith("2023-02-20T18:19:03.2016")


def test_token_flow_and_its_401s(sim):
    url = f"{sim.url}/authentication/v1.0/oauth/token"
    good = {"grantType": "client_credentials", "clientId": "app-a", "clientSecret": "secret-a"}
    answer = requests.post(url, data=good, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["type"] == "bearer" and answer.json()["expiresIn"] == 21600
    bad = requests.post(url, data={**good, "clientSecret": "nope"}, timeout=5)
    assert bad.status_code == 401 and bad.json() == {"error": {"code": "Unauthorized", "message": "Bad credentials"}}
    assert requests.post(url, json=good, timeout=5).status_code == 400  # form fields, not JSON
    assert requests.post(url, data={**good, "grantType": "refresh_token"}, timeout=5).status_code == 400
    api = Api(sim)
    assert requests.get(f"{sim.url}{POLL}", headers={"Authorization": "Bearer forged"}, timeout=5).status_code == 401
    assert api.get(POLL).status_code == 204
    sim.advance(21600)
    assert api.get(POLL).status_code == 401  # expired on the fake clock
    api.login()
    sim.expire_tokens()
    assert api.get(POLL).status_code == 401


def test_both_prefixes_and_the_encoded_colon_serve_one_queue(sim):
    api = Api(sim)
    order_id = sim.place_order(M1)
    first = api.poll(POLL)
    assert codes(first) == ["PLC"] and first[0]["orderId"] == order_id
    assert set(first[0]) == {"id", "code", "fullCode", "orderId", "merchantId", "createdAt", "salesChannel", "metadata"}
    assert api.poll("/order/v1.0/events%3Apolling") == first  # redelivered: not acknowledged yet
    api.ack(first, OLD_ACK)
    answer = api.get(OLD_POLL)
    assert answer.status_code == 204 and answer.content == b""


def test_events_come_back_until_acknowledged_and_whole_events_are_accepted(sim):
    api = Api(sim)
    sim.place_orders(2, merchant_id=M1)
    for _ in range(3):
        assert len(api.poll()) == 2
    events = api.poll()
    assert api.post(ACK, json=events[:1]).status_code == 202  # the whole event object; only id is read
    assert [e["id"] for e in api.poll()] == [events[1]["id"]]
    assert sim.acked_ids("app-a") == [events[0]["id"]]
    assert [e["id"] for e in sim.unacked("app-a")] == [events[1]["id"]]


def test_each_credential_has_its_own_queue_of_its_own_merchants(sim):
    a, b = Api(sim, "app-a"), Api(sim, "app-b")
    sim.place_order(M1)
    sim.place_order(M2)
    a_events = a.poll()
    assert len(a_events) == 2 and {e["merchantId"] for e in b.poll()} == {M1}
    a.ack(a_events)
    assert a.poll() == [] and len(b.poll()) == 1  # app-a's ACK leaves app-b's copy alone
    assert len(sim.events("app-a")) == 2 and len(sim.events("app-b")) == 1


def test_x_polling_merchants_limits_and_selects(sim):
    api = Api(sim)
    sim.place_order(M1)
    sim.place_order(M2)
    too_many = ",".join([M1] * 101)
    answer = api.get(POLL, headers={"x-polling-merchants": too_many})
    assert answer.status_code == 400 and "Too many polling merchants" in answer.text
    stranger = "33333333-3333-4333-8333-333333333333"
    answer = api.get(POLL, headers={"x-polling-merchants": f"{M1},{stranger}"})
    assert answer.status_code == 403 and answer.json() == {"unauthorizedMerchants": [stranger]}
    assert Api(sim, "app-b").get(POLL, headers={"x-polling-merchants": M2}).json() == {"unauthorizedMerchants": [M2]}
    assert {e["merchantId"] for e in api.poll(headers={"x-polling-merchants": M2})} == {M2}
    assert len(api.poll(headers={"x-polling-merchants": f"{M1}, {M2}"})) == 2


def test_type_and_group_filters_auto_acknowledge_what_they_leave_out(sim):
    api = Api(sim)
    order_id = sim.place_order(M1, order_type="TAKEOUT")
    assert api.act(order_id, "confirm").status_code == 202
    only = api.poll(params={"types": "CFM"})
    assert codes(only) == ["CFM"]
    plc = next(e for e in sim.events("app-a") if e["code"] == "PLC")
    assert plc["id"] in sim.acked_ids("app-a")
    assert codes(api.poll()) == ["CFM"]  # the PLC never comes back
    api.act(order_id, "startPreparation")
    api.act(order_id, "readyToPickup")
    assert codes(api.poll(params={"groups": "ORDER_STATUS"})) == ["CFM", "RTP"]  # PRS is not an ORDER_STATUS event


def test_order_details_add_up_to_the_cent(sim):
    api = Api(sim)
    seen_types, seen_methods = set(), set()
    for order_id in sim.place_orders(60):
        order = api.details(order_id)
        seen_types.add(order["orderType"])
        for item in order["items"]:
            assert item["price"] == item["quantity"] * item["unitPrice"]
            assert item["optionsPrice"] == sum((o["price"] for o in item.get("options", [])), Decimal(0))
            assert item["totalPrice"] == item["price"] + item["optionsPrice"]
            for option in item.get("options", []):
                assert option["price"] == option["quantity"] * option["unitPrice"]
        total = order["total"]
        assert total["subTotal"] == sum(i["totalPrice"] for i in order["items"])
        assert total["additionalFees"] == sum((f["value"] for f in order["additionalFees"]), Decimal(0))
        assert total["benefits"] == sum((b["value"] for b in order["benefits"]), Decimal(0))
        assert total["orderAmount"] == total["subTotal"] + total["deliveryFee"] + total["additionalFees"] - total["benefits"]
        payments = order["payments"]
        assert sum(m["value"] for m in payments["methods"]) == total["orderAmount"] == payments["prepaid"] + payments["pending"]
        for method in payments["methods"]:
            seen_methods.add(method["method"])
            if method["method"] == "CASH":
                assert method["cash"]["changeFor"] >= method["value"]
            if method["method"] == "CREDIT":
                assert method["card"]["brand"]
        assert ("delivery" in order) == (order["orderType"] == "DELIVERY")
        assert order["customer"]["name"] and re.fullmatch(r"\d{4}", order["displayId"])
    assert seen_types == {"DELIVERY", "TAKEOUT", "DINE_IN"} and {"CASH", "CREDIT", "PIX"} <= seen_methods


def test_orders_are_deterministic_with_a_seed_and_totals_can_be_made_wrong():
    one, two = IFoodSimulator(seed=5, clock=lambda: 1e9), IFoodSimulator(seed=5, clock=lambda: 1e9)
    try:
        first, second = one.place_order(), two.place_order()
        assert one.orders[first] == two.orders[second]
        bad_id = one.place_order(bad_totals=True)
        bad = one.orders[bad_id]["total"]
        assert bad["orderAmount"] != bad["subTotal"] + bad["deliveryFee"] + bad["additionalFees"] - bad["benefits"]
    finally:
        one.stop()
        two.stop()


def test_details_404_right_after_placed_for_a_while(sim):
    api = Api(sim)
    assert api.get("/order/v1.0/orders/no-such-order").status_code == 404
    sim.details_404_s = 30
    order_id = sim.place_order()
    assert api.get(f"/order/v1.0/orders/{order_id}").status_code == 404
    sim.advance(31)
    assert api.get(f"/order/v1.0/orders/{order_id}").status_code == 200
    sim.details_404_s, sim.details_404_requests = 0, 2
    order_id = sim.place_order()
    statuses = [api.get(f"/order/v1.0/orders/{order_id}").status_code for _ in range(3)]
    assert statuses == [404, 404, 200]


def test_every_action_queues_its_follow_up_event_for_every_credential(sim):
    a, b = Api(sim, "app-a"), Api(sim, "app-b")
    order_id = sim.place_order(M1, order_type="DELIVERY", delivered_by="MERCHANT")
    for action in ("confirm", "startPreparation", "readyToPickup"):
        assert a.act(order_id, action).status_code == 202
    assert a.act(order_id, "dispatch", json={"deliveredBy": "MERCHANT"}).status_code == 202
    sim.conclude(order_id)
    first = a.poll()
    assert codes(first) == codes(b.poll()) == ["PLC", "CFM", "PRS", "RTP", "DSP", "CON"]
    a.ack(first)
    assert sim.order_status(order_id) == "CONCLUDED"
    new = sim.place_order(M1)
    assert a.act(new, "requestCancellation", json={"reason": "501"}).status_code == 202
    bad_code = sim.place_order(M1)
    assert a.act(bad_code, "requestCancellation", json={"reason": "Cliente sumiu", "cancellationCode": "999"}).status_code == 202
    by_customer = sim.place_order(M1)
    car = sim.customer_requests_cancellation(by_customer)
    assert car["metadata"]["ORIGIN"] == "CONSUMER" and {"reason_code", "details"} <= set(car["metadata"])
    assert a.act(by_customer, "acceptCancellation").status_code == 202
    denied = sim.place_order(M1)
    sim.customer_requests_cancellation(denied)
    assert a.act(denied, "denyCancellation").status_code == 202
    events = [e for e in a.poll() if e["code"] != "PLC"]
    assert [(e["orderId"], e["code"]) for e in events] == [
        (new, "CAN"), (bad_code, "CARF"), (by_customer, "CAR"), (by_customer, "CAN"), (denied, "CAR")]
    assert events[0]["metadata"]["CANCEL_CODE"] == "501"
    assert [sim.order_status(o) for o in (new, bad_code, by_customer, denied)] == ["CANCELLED", "PLACED", "CANCELLED", "PLACED"]


def test_cancellation_reasons(sim):
    api = Api(sim)
    reasons = api.get(f"/order/v1.0/orders/{sim.place_order()}/cancellationReasons").json()
    assert {"cancelCodeId": "501", "description": "Problemas de sistema na loja"} in reasons and len(reasons) >= 5


def test_illegal_actions_are_refused_with_an_error_body(sim):
    api = Api(sim)
    order_id = sim.place_order(M1, order_type="DELIVERY", delivered_by="IFOOD")
    refused = api.act(order_id, "dispatch")
    assert refused.status_code == 409 and "PLACED" in refused.json()["error"]["message"]
    assert api.act(order_id, "acceptCancellation").status_code == 409  # nobody asked to cancel
    api.act(order_id, "confirm")
    assert api.act(order_id, "confirm").status_code == 202  # a retried action is accepted, with no second event
    assert api.act(order_id, "dispatch").status_code == 409  # iFood's courier delivers this one
    assert api.act(order_id, "requestCancellation", json={}).status_code == 400
    assert api.act(order_id, "explode").status_code == 404
    assert codes(api.poll()) == ["PLC", "CFM"]


def test_acknowledgment_bodies_are_checked(sim):
    api = Api(sim)
    assert api.post(ACK, json={"id": "x"}).status_code == 400
    assert api.post(ACK, json=[{"event": "x"}]).status_code == 400
    assert api.post(ACK, json=[{"id": f"e{i}"} for i in range(2001)]).status_code == 413
    assert api.post(ACK, json=[{"id": f"e{i}"} for i in range(2000)]).status_code == 202


def test_unacknowledged_deliveries_strike_and_block_polling(sim):
    sim.strike_rule.deliveries, sim.strike_rule.block_at = 2, 3
    api = Api(sim)
    sim.place_orders(3, merchant_id=M1)
    assert len(api.poll()) == 3
    assert len(api.poll()) == 3  # the second delivery without an ACK: auto-ACKed, one strike each
    assert sim.unacked("app-a") == [] and sim.blocked("app-a")
    blocked = api.get(POLL)
    assert blocked.status_code == 429
    assert blocked.json() == {
        "code": "429", "message": "Multiple events have been delivered without proper acknowledgment confirmation. Throttling applied."
    }
    sim.advance(5 * 60 + 1)
    assert api.get(POLL).status_code == 204
    sim.place_orders(3, merchant_id=M1)
    api.poll(), api.poll()
    assert sim.strikes("app-a") == 3 and not sim.blocked("app-a")  # the 60-minute cooldown
    sim.advance(30 * 60 + 1)
    assert sim.strikes("app-a") == 0  # strikes lapse 30 minutes after the latest


def test_rate_limit_per_token(sim):
    sim.rate_limit_rpm = 3
    api = Api(sim)
    assert [api.get(POLL).status_code for _ in range(3)] == [204, 204, 204]
    limited = api.get(POLL)
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Limit"] == "3" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(limited.headers["X-RateLimit-Reset"]) <= 60
    sim.advance(60)
    assert api.get(POLL).status_code == 204


def test_duplicates_and_old_placed_events(sim):
    api = Api(sim)
    sim.place_order(M1)
    api.ack(api.poll())
    sim.duplicates = True
    sim.place_order(M1)
    events = api.poll()
    assert len(events) == 3 and events[0] == events[1] and events[2]["id"] in sim.acked_ids("app-a")


def test_out_of_order_keeps_created_at(sim):
    api = Api(sim)
    sim.out_of_order = True
    sim.place_orders(8, merchant_id=M1)
    polls = [api.poll() for _ in range(4)]
    # Sort by time, not by text: with trailing zeros dropped, "…:20Z" sorts after "…:20.000002Z" as a string.
    ordered = sorted(polls[0], key=lambda e: datetime.fromisoformat(e["createdAt"]))
    assert ordered == sim.events("app-a")
    assert any(p != ordered for p in polls)


def test_faults_inherited_from_the_fake_server(sim):
    api = Api(sim)
    sim.faults.fail_next = 1
    assert api.get(POLL).status_code == 503
    assert api.get(POLL).status_code == 204


def test_merchant_status_follows_polling_presence(sim):
    api = Api(sim)
    status_path = f"/merchant/v1.0/merchants/{M1}/status"

    def status() -> dict:
        """The first entry of the status path's answer."""
        answer = api.get(status_path)
        assert answer.status_code == 200
        return answer.json()[0]

    def validation(entry: dict, code: str) -> str:
        """The state of one validation of an entry."""
        return next(v["state"] for v in entry["validations"] if v["code"] == code)

    assert status()["state"] == "CLOSED" and validation(status(), "is-connected") == "CLOSED"
    api.poll()
    assert status()["state"] == "OK" and status()["available"] and validation(status(), "is-connected") == "OK"
    assert {v["code"] for v in status()["validations"]} == {"is-connected", "opening-hours"}
    sim.set_merchant_state(M1, "WARNING")
    assert status()["state"] == "WARNING" and len(status()["validations"]) == 3
    sim.advance(46)
    assert status()["state"] == "CLOSED" and not sim.is_connected(M1)
    assert api.get(f"{status_path}/DELIVERY").status_code == 200
    assert Api(sim, "app-b").get(f"/merchant/v1.0/merchants/{M2}/status").status_code == 403
    assert [m["id"] for m in api.get("/merchant/v1.0/merchants").json()] == [M1, M2]
    assert api.get(f"/merchant/v1.0/merchants/{M2}").json()["name"] == "Açaí"
