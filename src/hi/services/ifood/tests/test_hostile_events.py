"""A misbehaving iFood: one malformed event in a poll never stops the orders around it, and a bad webhook is answered 4xx."""
from __future__ import annotations

import json

import pytest

from hi.integrations.api import InboundEvent, receive_path
from hi.integrations.testing import integration_health, problems
from hi.integrations.testing.inbound import post_as_provider
from hi.orders.models import Order
from hi.services.ifood import polling
from hi.services.ifood.models import state_of

from .helpers import CLIENT_ID, MERCHANTS, add_ifood, sign, work_until

pytestmark = pytest.mark.django_db
Status = InboundEvent.Status
#: The timestamp that made every poll fail with OverflowError (a valid ISO date whose UTC is past year 9999).
OVERFLOWING = "9999-12-31T23:59:59-23:59"


def hostile(event_id: str, **fields) -> dict:
    """A status event for an order iFood never placed, as a broken iFood might send it."""
    return {"id": event_id, "code": "CFM", "fullCode": "CONFIRMED", "orderId": "ord-ghost", "merchantId": MERCHANTS[0],
            "createdAt": "2026-12-03T10:00:00Z", "salesChannel": "IFOOD", "metadata": {}, **fields}


def test_a_poll_with_a_bad_date_and_a_surrogate_id_still_delivers_the_normal_order_and_keeps_the_bad_events_as_failed(ifood, ifood_sim):
    """Given [bad createdAt, lone-surrogate id, normal PLC] in one poll, the order arrives and the bad ones are failed, acked, counted."""
    # given
    ifood_sim.queue_raw_event(hostile("evt-overflow", createdAt=OVERFLOWING))
    ifood_sim.queue_raw_event(hostile("evt-\ud800"))
    order_id = ifood_sim.place_order()
    # when
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    # then the normal order arrived and every event, the bad ones too, was acknowledged
    assert not ifood_sim.unacked(CLIENT_ID)
    assert {"evt-overflow", "evt-\ud800"} <= set(ifood_sim.acked_ids(CLIENT_ID))
    # and the bad ones are kept as failed events saying why
    failed = InboundEvent.objects.filter(integration=ifood, status=Status.FAILED)
    reasons = sorted(failed.values_list("reason", flat=True))
    assert len(reasons) == 2
    assert any("createdAt" in r and OVERFLOWING in r for r in reasons)
    assert any("id is not valid text" in r for r in reasons)
    assert state_of(ifood).last_poll_ok
    # and the operator sees them in the health region and among the integration's problems
    assert integration_health(ifood).failed_events == 2
    assert [p.code for p in problems(ifood)] == ["failed_events"]


def test_a_poll_answer_with_items_that_are_not_objects_or_lack_an_id_still_stores_the_rest(ifood, ifood_sim):
    """Given a poll answer holding a number, a string and an id-less event beside a real PLC, then the PLC's order arrives."""
    # given: the poll endpoint answers the simulator's events plus junk
    real_poll = ifood_sim.routes[("GET", "/events/v1.0/events:polling")]

    def junk_poll(request):
        """The real poll's events after three that are not events."""
        status, headers, body = real_poll(request)
        events = json.loads(body) if status == 200 else []
        return 200, {"Content-Type": "application/json"}, json.dumps([7, "x", {"code": "PLC"}, *events]).encode()

    ifood_sim.route("GET", "/events/v1.0/events:polling", junk_poll)
    order_id = ifood_sim.place_order()
    # when
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    # then the junk was stored once each, as failed, however often it came back
    failed = InboundEvent.objects.filter(integration=ifood, status=Status.FAILED)
    assert failed.count() == 3
    assert all(r.provider_event_id.startswith("invalid:") for r in failed)


def test_a_signed_webhook_whose_event_id_has_a_lone_surrogate_is_refused_with_400_and_logged(workspace, ifood_sim):
    """Given webhook mode and a signed event whose id is "\\ud800", then 400 with an inbound row, not 503 forever."""
    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    body = b'{"id":"\\ud800","code":"PLC","orderId":"o-1","merchantId":"m","createdAt":"2026-12-03T10:00:00Z"}'
    answers = [post_as_provider(receive_path(integration), body, {"X-IFood-Signature": sign(body)}).status_code for _ in range(2)]
    assert answers == [400, 400]
    rows = InboundEvent.objects.filter(integration=integration)
    assert rows.count() == 2 and all(r.status == Status.REJECTED and "not valid text" in r.reason for r in rows)


def test_a_signed_webhook_with_an_out_of_range_date_is_refused_with_400_saying_why(workspace, ifood_sim):
    """Given webhook mode and a signed event dated past year 9999 in UTC, then 400 naming createdAt."""
    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    body = json.dumps(hostile("evt-late", createdAt=OVERFLOWING), separators=(",", ":")).encode()
    response = post_as_provider(receive_path(integration), body, {"X-IFood-Signature": sign(body)})
    assert response.status_code == 400
    assert "createdAt" in InboundEvent.objects.get(integration=integration).reason


def test_one_bad_event_among_many_in_a_direct_poll_does_not_fail_the_poll(ifood, ifood_sim):
    """Given a bad event queued before twenty orders, when one poll runs, then it stores 21 rows and raises nothing."""
    ifood_sim.queue_raw_event(hostile("evt-bad-date", createdAt="2026-13-45T99:00:00Z"))
    ifood_sim.place_orders(20)
    polling.poll(ifood)
    assert InboundEvent.objects.filter(integration=ifood, status=Status.ACCEPTED).count() == 20
    assert InboundEvent.objects.filter(integration=ifood, status=Status.FAILED).count() == 1
    assert not ifood_sim.unacked(CLIENT_ID)


def test_the_pane_counts_failed_events_and_the_inbound_log_shows_them_with_their_reason(ifood, ifood_sim, operator_client):
    """Given a polled event with a bad date, then the iFood pane counts it and the inbound log shows it failed, with why."""
    ifood_sim.queue_raw_event(hostile("evt-pane", createdAt=OVERFLOWING))
    polling.poll(ifood)
    page = operator_client.get(ifood.get_absolute_url()).content.decode()
    assert "data-ifood-failed-events>1<" in page
    assert 'data-inbound-status="failed"' in page and "createdAt" in page


def test_one_event_nested_deep_in_a_poll_answer_fails_alone(ifood, ifood_sim):
    """Given a poll answer whose first event carries metadata 40 levels deep, then that event fails and the PLC after it is stored."""
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    ifood_sim.queue_raw_event(hostile("evt-deep", metadata=deep))
    order_id = ifood_sim.place_order()
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    assert "nested deeper than" in InboundEvent.objects.get(integration=ifood, status=Status.FAILED).reason
    assert not ifood_sim.unacked(CLIENT_ID)


def test_a_keepalive_listing_objects_as_merchant_ids_is_answered_with_the_merchants_hi_serves(workspace, ifood_sim):
    """Given a signed KEEPALIVE whose merchantIds mixes objects and a real id, then 202 with that id, never 503."""
    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    body = json.dumps({"code": "KEEPALIVE", "id": "ka-odd", "merchantIds": [{"id": 1}, [2], MERCHANTS[0]]}).encode()
    response = post_as_provider(receive_path(integration), body, {"X-IFood-Signature": sign(body)})
    assert response.status_code == 202 and response.json() == {"merchantIds": [MERCHANTS[0]]}
