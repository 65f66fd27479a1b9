"""The WhatsApp simulator's notifications: Meta's escaping and signature, statuses, faults, customers, the handshake."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest
import requests

from hi.integrations.testing.waiting import wait_for
from hi.services.whatsapp.simulator import WhatsAppSimulator, meta_dumps, sign
from hi.services.whatsapp.simulator.inbound import KNOWN_KINDS, MEDIA_KINDS

from .simulator_kit import CUSTOMER, PHONE_ID, SECRET, VERIFY, WABA, Receiver, clock, graph, receiver, sim, template_body, text_body  # noqa: F401

ACCENTED = {"name": "José Conceição", "link": "https://cantina.example/pedidos/1234", "emoji": "\U0001F355"}


# --- escaping and signature -----------------------------------------------------------------------

def test_bodies_are_escaped_like_meta():
    body = meta_dumps(ACCENTED)
    assert body == (b'{"name":"Jos\\u00e9 Concei\\u00e7\\u00e3o","link":"https:\\/\\/cantina.example\\/pedidos\\/1234",'
                    b'"emoji":"\\ud83c\\udf55"}')
    assert json.loads(body) == ACCENTED


def test_escaping_leaves_text_that_merely_looks_like_an_escape_alone():
    tricky = {"text": "a literal \\u00E9 and a \\/ slash"}
    assert json.loads(meta_dumps(tricky)) == tricky


def test_a_reserialised_body_no_longer_matches_the_signature():
    body = meta_dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "contacts": [{"profile": {"name": "José Conceição"}}], "messages": [{"text": {"body": "Veja https://x.example/a"}}]}}]}]})
    signature = sign(body, SECRET)
    assert signature == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    parsed = json.loads(body)
    for again in (json.dumps(parsed).encode(), json.dumps(parsed, ensure_ascii=False).encode(),
                  json.dumps(parsed, separators=(",", ":")).encode(),
                  json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode()):
        assert sign(again, SECRET) != signature


def test_notifications_are_signed_over_the_exact_escaped_bytes_posted(sim, receiver):
    sim.customer_says(CUSTOMER, "Meu endereço: https://maps.example/r/1", name="José Conceição")
    assert sim.drain()
    [post] = receiver.posts()
    assert b"Jos\\u00e9 Concei\\u00e7\\u00e3o" in post.body and b"https:\\/\\/maps.example" in post.body
    assert receiver.signed(post) and post.headers["x-hub-signature-256"] == sign(post.body, SECRET)
    assert post.headers["x-hub-signature"].startswith("sha1=")
    assert sim.notifications[0]["raw"] == post.body and sim.notifications[0]["status"] == 200


@pytest.mark.parametrize("mode", ["invalid", "reserialized"])
def test_signature_modes_post_signatures_a_careful_receiver_refuses(sim, receiver, graph, mode):
    graph.control({"signature_mode": mode, "notification_retries": 0})
    sim.customer_says(CUSTOMER, "Olá, é a Conceição")
    assert sim.drain()
    [post] = receiver.posts()
    assert not receiver.signed(post) and sim.notifications[0]["status"] == 401
    if mode == "reserialized":
        reserialised = json.dumps(json.loads(post.body), ensure_ascii=False, separators=(",", ":")).encode()
        assert post.headers["x-hub-signature-256"] == sign(reserialised, SECRET)


# --- statuses -------------------------------------------------------------------------------------

def sent_id(graph, body: dict) -> str:
    """Send a message and return its wamid."""
    answer = graph.send(body)
    assert answer.status_code == 200, answer.text
    return answer.json()["messages"][0]["id"]


def test_a_template_gets_sent_delivered_read_in_the_envelope_meta_uses(sim, receiver, graph, clock):
    wamid = sent_id(graph, {**template_body(), "biz_opaque_callback_data": "order:42"})
    assert sim.drain()
    statuses = receiver.statuses(wamid)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["recipient_id"] == CUSTOMER and status["timestamp"].isdigit()
        assert int(status["timestamp"]) >= int(clock.t) and status["biz_opaque_callback_data"] == "order:42"
        assert status["conversation"]["origin"]["type"] == "utility" and status["pricing"]["category"] == "utility"
    post = receiver.posts()[0].json()
    assert post["object"] == "whatsapp_business_account" and post["entry"][0]["id"] == WABA
    change = post["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["metadata"] == {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID}
    assert all(receiver.signed(p) for p in receiver.posts())


def test_free_form_text_needs_the_customer_to_have_written_within_24_hours(sim, receiver, graph, clock):
    never = sent_id(graph, text_body("Oi!"))
    sim.customer_says(CUSTOMER, "Oi, tudo bem?")
    clock.t += 23 * 3600
    inside = sent_id(graph, text_body("Tudo, e você?"))
    clock.t += 2 * 3600
    outside = sent_id(graph, text_body("Ainda aí?"))
    template = sent_id(graph, template_body())
    assert sim.drain()
    [failed] = receiver.statuses(never)
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == "Re-engagement message" and failed["errors"][0]["error_data"]["details"]
    assert [s["status"] for s in receiver.statuses(inside)] == ["sent", "delivered", "read"]
    assert receiver.statuses(inside)[0]["pricing"]["billable"] is False
    assert [s["errors"][0]["code"] for s in receiver.statuses(outside)] == [131047]
    assert [s["status"] for s in receiver.statuses(template)] == ["sent", "delivered", "read"]


def test_undeliverable_numbers_fail_with_131026(sim, receiver, graph):
    graph.control({"undeliverable_numbers": ["+55 11 90000-0000"]})
    wamid = sent_id(graph, template_body(to="5511900000000"))
    assert sim.drain()
    assert [(s["status"], s["errors"][0]["code"]) for s in receiver.statuses(wamid)] == [("failed", 131026)]


def test_duplicate_notifications_post_every_body_twice(sim, receiver, graph):
    graph.control({"duplicate_notifications": True})
    wamid = sent_id(graph, template_body())
    assert sim.drain()
    assert [s["status"] for s in receiver.statuses(wamid)] == ["sent", "sent", "delivered", "delivered", "read", "read"]
    bodies = [p.body for p in receiver.posts()]
    assert bodies[0] == bodies[1] and bodies[2] == bodies[3]


def test_out_of_order_notifications_arrive_read_first_with_true_timestamps(sim, receiver, graph):
    graph.control({"out_of_order_notifications": True, "status_delay_s": 1.0})
    wamid = sent_id(graph, template_body())
    assert sim.drain()
    statuses = receiver.statuses(wamid)
    assert [s["status"] for s in statuses] == ["read", "delivered", "sent"]
    assert [int(s["timestamp"]) for s in statuses] == sorted((int(s["timestamp"]) for s in statuses), reverse=True)


def test_skip_delivered_goes_from_sent_to_read(sim, receiver, graph):
    graph.control({"skip_delivered": True})
    wamid = sent_id(graph, template_body())
    assert sim.drain() and [s["status"] for s in receiver.statuses(wamid)] == ["sent", "read"]


def test_paused_notifications_wait_and_batches_carry_several_entries_changes_and_items(sim, receiver, graph):
    graph.control({"notifications_paused": True, "batch_notifications": True})  # true: up to 10 per POST
    wamids = [sent_id(graph, template_body(to=f"55119999900{n:02d}")) for n in range(3)]
    sim.customer_says("5511888887777", "Oi", name="Ana")
    sim.customer_says("5511888886666", "Olá", name="Bia")
    assert not wait_for(lambda: receiver.posts(), timeout_s=0.3) and sim.notifier.pending() == 5 + 6
    graph.control({"notifications_paused": False})
    assert sim.drain()
    first = receiver.posts()[0].json()
    assert len(first["entry"]) == 2
    changes = [change["value"] for entry in first["entry"] for change in entry["changes"]]
    assert any(len(entry["changes"]) > 1 for entry in first["entry"])
    assert any(len(v.get("statuses", [])) > 1 for v in changes) and any(len(v.get("messages", [])) > 1 for v in changes)
    assert {c["wa_id"] for v in changes for c in v.get("contacts", [])} == {"5511888887777", "5511888886666"}
    for wamid in wamids:
        assert sorted(s["status"] for s in receiver.statuses(wamid)) == ["delivered", "read", "sent"]
    assert len(receiver.posts()) < 5 + 6 and all(receiver.signed(p) for p in receiver.posts())


def test_a_refused_notification_is_retried_with_the_same_bytes(sim, receiver):
    receiver.answers = [500, 503]
    sim.customer_says(CUSTOMER, "Oi")
    # The simulator records a post once its answer is back, a moment after the receiver saw it: wait for both.
    assert wait_for(lambda: len(receiver.posts()) == 3 and len(sim.notifications) == 3)
    bodies = {p.body for p in receiver.posts()}
    assert len(bodies) == 1 and [n["attempt"] for n in sim.notifications] == [1, 2, 3]
    assert [n["status"] for n in sim.notifications] == [500, 503, 200]


def test_a_read_template_is_sometimes_answered_by_the_customer(sim, receiver, graph):
    graph.control({"reply_probability": 1.0, "reply_text": "Obrigado!"})
    sent_id(graph, template_body())
    assert wait_for(lambda: receiver.messages()) and sim.drain()
    [reply] = receiver.messages()
    assert (reply["from"], reply["type"], reply["text"]["body"]) == (CUSTOMER, "text", "Obrigado!")
    assert CUSTOMER in sim.last_inbound


# --- customers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [*KNOWN_KINDS, "hologram"])
def test_customer_says_every_kind_in_its_wire_shape(sim, receiver, graph, kind):
    if kind in ("interactive", "button", "reaction"):
        sent_id(graph, template_body())
    message = sim.customer_says(f"+{CUSTOMER}", "Quero o cardápio", name="Luíza", kind=kind)
    assert sim.drain()
    [received] = receiver.messages()
    assert received == message and received["type"] == kind and received["from"] == CUSTOMER
    assert received["timestamp"].isdigit() and received["id"].startswith("wamid.")
    value = next(c["value"] for p in receiver.posts() for e in p.json()["entry"] for c in e["changes"] if "messages" in c["value"])
    assert value["contacts"] == [{"profile": {"name": "Luíza"}, "wa_id": CUSTOMER}]
    if kind in MEDIA_KINDS:
        media = received[kind]
        assert {"id", "mime_type", "sha256"} <= set(media)
        assert graph.get(media["id"]).json()["sha256"] == media["sha256"]
        assert ("caption" in media) == (kind in ("image", "video", "document"))
    expected = {"text": lambda m: m["text"]["body"] == "Quero o cardápio",
                "location": lambda m: {"latitude", "longitude"} <= set(m["location"]),
                "contacts": lambda m: m["contacts"][0]["name"]["formatted_name"] == "Quero o cardápio",
                "interactive": lambda m: m["interactive"]["button_reply"]["title"] == "Quero o cardápio" and "context" in m,
                "button": lambda m: m["button"]["text"] == "Quero o cardápio" and "context" in m,
                "reaction": lambda m: m["reaction"]["message_id"] == sim.sent[-1]["id"],
                "unsupported": lambda m: m["errors"][0]["code"] == 131051,
                "hologram": lambda m: m["hologram"] == {"body": "Quero o cardápio"}}
    assert expected.get(kind, lambda m: True)(received)


def test_customer_extras_shape_the_message(sim):
    listed = sim.customer_says(CUSTOMER, "Pizza", kind="interactive", reply_type="list_reply", reply_id="p1",
                               description="Grande")
    assert listed["interactive"] == {"type": "list_reply", "list_reply": {"id": "p1", "title": "Pizza", "description": "Grande"}}
    odd = sim.customer_says(CUSTOMER, "oi", referral={"source_url": "https://ad.example"})
    assert odd["referral"] == {"source_url": "https://ad.example"}
    document = sim.customer_says(CUSTOMER, "", kind="document", data=b"%PDF-1.7 big", filename="menu.pdf")
    assert document["document"]["filename"] == "menu.pdf" and sim.media[document["document"]["id"]]["data"] == b"%PDF-1.7 big"


def test_customer_messages_can_be_posted_through_the_control_endpoint(sim, receiver):
    answer = requests.post(f"{sim.url}/_simulator/customer-messages", timeout=5,
                           json={"wa_id": CUSTOMER, "text": "Cadê meu pedido?", "name": "Rui"})
    assert answer.status_code == 202 and sim.drain()
    assert receiver.messages()[0]["id"] == answer.json()["id"] and sim.customers[CUSTOMER] == "Rui"
    assert requests.post(f"{sim.url}/_simulator/customer-messages", json={"text": "no wa_id"}, timeout=5).status_code == 400


# --- the verification handshake -------------------------------------------------------------------

def test_verify_performs_the_get_handshake(sim, receiver):
    assert sim.verify(challenge="1158201444") == (200, "1158201444")
    status, body = sim.verify()
    assert status == 200 and body.isdigit()
    assert sim.verify(verify_token="wrong")[0] == 403
    assert sim.verify(mode="unsubscribe")[0] == 403
    [first, *_] = [r for r in receiver.requests_to("/hook") if r.method == "GET"]
    assert first.query == {"hub.mode": ["subscribe"], "hub.challenge": ["1158201444"], "hub.verify_token": [VERIFY]}


def test_verify_through_the_control_endpoint_and_without_a_callback(sim, clock):
    answer = requests.post(f"{sim.url}/_simulator/verify", json={"challenge": "42"}, timeout=5)
    assert answer.json() == {"status": 200, "body": "42"}
    with WhatsAppSimulator(clock=clock) as lonely:
        with pytest.raises(ValueError):
            lonely.verify()
        assert requests.post(f"{lonely.url}/_simulator/verify", json={}, timeout=5).status_code == 400


# --- threads --------------------------------------------------------------------------------------

def test_a_stalled_callback_never_holds_up_sends_and_stop_ends_the_posting(sim, receiver, graph):
    receiver.faults.delay_s = 30  # hi hangs on the first notification
    sent_id(graph, template_body())
    assert wait_for(lambda: receiver.posts())
    # The send endpoint still answers within a short client timeout while the poster waits on hi.
    assert graph.send(template_body(to="5521988887777"), timeout=2).status_code == 200
    assert sim.notifier.pending() > 0
    stopped = wait_for_call(sim.stop, timeout_s=10)
    posted = len(receiver.posts())
    assert stopped and not wait_for(lambda: len(receiver.posts()) > posted, timeout_s=0.5)
    assert sim.notifier.pending() == 0


def wait_for_call(call, timeout_s: float) -> bool:
    """Run `call` in a thread; whether it returned within `timeout_s` (a generous bound on a slow-peer outcome)."""
    done = threading.Event()
    threading.Thread(target=lambda: (call(), done.set()), daemon=True).start()
    return done.wait(timeout_s)


def test_a_long_running_simulator_keeps_only_recent_records(sim, graph):
    sim.max_recorded = 2
    for n in range(6):
        sim.customer_says(CUSTOMER, f"mensagem {n}")
        sent_id(graph, text_body(f"resposta {n}"))
    assert sim.drain()
    assert len(sim.notifications) <= 4 and len(sim.sent) <= 4
    assert sim.sent[-1]["text"] == "resposta 5"


class SlowReceiver(Receiver):
    """A receiver that takes its time over each notification and remembers how many it held at once."""

    def __init__(self) -> None:
        """A receiver measuring how many POSTs it handles at once."""
        super().__init__()
        self.active = self.most_active = 0
        self.gauge = threading.Lock()

    def receive(self, request):
        """POST /hook: take a while, counting the POSTs in flight."""
        with self.gauge:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        threading.Event().wait(0.3)
        with self.gauge:
            self.active -= 1
        return super().receive(request)


@pytest.mark.parametrize("workers, concurrent", [(1, False), (3, True)])
def test_notification_workers_post_concurrently_only_when_asked(sim, graph, workers, concurrent):
    slow = SlowReceiver().start()
    try:
        graph.control({"callback_url": slow.hook, "notification_workers": workers, "notifications_paused": True})
        for n in range(3):
            sent_id(graph, template_body(to=f"55119999900{n:02d}"))
        graph.control({"notifications_paused": False})
        assert sim.drain(timeout_s=30) and len(slow.posts()) == 9
        assert (slow.most_active > 1) is concurrent
    finally:
        slow.stop()
