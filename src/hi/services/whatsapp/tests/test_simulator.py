"""The WhatsApp simulator's Graph endpoints, sending faults and control endpoint speak Meta's wire format."""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from hi.integrations.testing.waiting import wait_for
from hi.services.whatsapp.simulator import WhatsAppSimulator
from hi.services.whatsapp.simulator.control import FAULT_KNOBS, SIM_KNOBS

from .simulator_kit import CUSTOMER, PHONE_ID, TOKEN, WABA, Graph, clock, error_of, graph, receiver, sim, template_body, text_body  # noqa: F401

ROOT = Path(__file__).resolve().parents[5]
FIELDS = "fields=display_phone_number,verified_name,quality_rating"


# --- the phone number, versions, authentication ---------------------------------------------------

def test_the_phone_number_answers_the_fields_hi_asks_for(graph):
    answer = graph.get(f"{PHONE_ID}?{FIELDS}")
    assert answer.status_code == 200
    assert answer.json() == {"display_phone_number": "15550783881", "verified_name": "Cantina da Nonna",
                             "quality_rating": "GREEN", "id": PHONE_ID}


def test_without_fields_meta_default_set_and_an_unknown_field_is_refused(graph):
    assert {"verified_name", "display_phone_number", "quality_rating", "id"} <= set(graph.get(PHONE_ID).json())
    answer = graph.get(f"{PHONE_ID}?fields=verified_name,favourite_colour")
    assert answer.status_code == 400 and error_of(answer)["code"] == 100
    assert "favourite_colour" in error_of(answer)["message"]


@pytest.mark.parametrize("version", ["v17.0", "v23.0", "v99.12"])
def test_any_graph_version_prefix_is_accepted(sim, version):
    assert Graph(sim, version=version).get(f"{PHONE_ID}?{FIELDS}").status_code == 200


def test_a_path_that_is_not_a_version_is_refused(sim):
    answer = Graph(sim, version="latest").get(f"{PHONE_ID}?{FIELDS}")
    assert answer.status_code == 400 and error_of(answer)["code"] == 100


def test_an_unknown_object_is_an_unsupported_get_request(graph):
    answer = graph.get("123456789")
    error = error_of(answer)
    assert answer.status_code == 400 and (error["code"], error["error_subcode"]) == (100, 33)


@pytest.mark.parametrize("token", ["", "EAAG-someone-elses-token"])
def test_a_wrong_or_missing_token_is_code_190_over_401(sim, token):
    answer = Graph(sim, token=token).get(f"{PHONE_ID}?{FIELDS}")
    assert answer.status_code == 401 and error_of(answer)["code"] == 190
    assert answer.headers["WWW-Authenticate"].startswith("OAuth")


def test_auth_error_status_sends_190_over_400_through_the_control_endpoint(sim, graph):
    assert graph.control({"auth_error_status": 400}).status_code == 200
    answer = Graph(sim, token="expired").send(template_body())
    assert answer.status_code == 400 and error_of(answer)["code"] == 190
    assert sim.sent == []


def test_token_expired_refuses_even_the_right_token_with_subcode_463(sim, graph):
    graph.control({"token_expired": True})
    error = error_of(graph.get(f"{PHONE_ID}?{FIELDS}"))
    assert (error["code"], error["error_subcode"]) == (190, 463)
    graph.control({"token_expired": False})
    assert graph.get(f"{PHONE_ID}?{FIELDS}").status_code == 200


def test_the_token_may_come_in_the_query_as_graph_allows(sim):
    answer = requests.get(f"{sim.url}/v23.0/{PHONE_ID}?{FIELDS}&access_token={TOKEN}", timeout=5)
    assert answer.status_code == 200


def test_quality_rating_is_a_knob(graph):
    graph.control({"quality_rating": "YELLOW"})
    assert graph.get(f"{PHONE_ID}?{FIELDS}").json()["quality_rating"] == "YELLOW"


# --- templates ------------------------------------------------------------------------------------

def all_pages(graph: Graph, first: str) -> list[dict]:
    """Follow `paging.next` from the first page; every page but the last has one."""
    pages, answer = [], graph.get(first).json()
    pages.append(answer)
    while "next" in answer["paging"]:
        answer = graph.session.get(answer["paging"]["next"], timeout=5).json()
        pages.append(answer)
    return pages


def test_templates_come_in_pages_of_25_following_next(graph):
    pages = all_pages(graph, f"{WABA}/message_templates?limit=25")
    assert [len(p["data"]) for p in pages][:-1] == [25] * (len(pages) - 1) and len(pages) >= 2
    templates = [t for page in pages for t in page["data"]]
    assert len(templates) >= 30 and len({t["id"] for t in templates}) == len(templates)
    by_name = {t["name"]: t for t in templates}
    confirmed = by_name["order_confirmed"]
    assert (confirmed["language"], confirmed["status"], confirmed["category"]) == ("pt_BR", "APPROVED", "UTILITY")
    body = next(c["text"] for c in confirmed["components"] if c["type"] == "BODY")
    assert all(f"{{{{{n}}}}}" in body for n in (1, 2, 3, 4))
    assert {"order_dispatched", "order_ready", "order_cancelled"} <= set(by_name)
    assert {"PENDING", "REJECTED"} <= {t["status"] for t in templates}


def test_template_paging_cursors_go_back_and_refuse_nonsense(graph):
    first = graph.get(f"{WABA}/message_templates?limit=10").json()
    second = graph.session.get(first["paging"]["next"], timeout=5).json()
    assert "previous" not in first["paging"] and "previous" in second["paging"]
    back = graph.session.get(second["paging"]["previous"], timeout=5).json()
    assert [t["id"] for t in back["data"]] == [t["id"] for t in first["data"]]
    after = graph.get(f"{WABA}/message_templates?limit=10&after={first['paging']['cursors']['after']}").json()
    assert after["data"] == second["data"]
    assert error_of(graph.get(f"{WABA}/message_templates?after=not-a-cursor"))["code"] == 100
    assert error_of(graph.get(f"{WABA}/message_templates?limit=zero"))["code"] == 100


def test_template_fields_are_projected_and_the_token_can_ride_in_paging_links(graph):
    page = graph.get(f"{WABA}/message_templates?fields=name,status&limit=5").json()
    assert set(page["data"][0]) == {"name", "status", "id"} and "fields=name%2Cstatus" in page["paging"]["next"]
    graph.control({"token_in_paging_urls": True})
    page = graph.get(f"{WABA}/message_templates?limit=5").json()
    assert f"access_token={TOKEN}" in page["paging"]["next"]
    assert requests.get(page["paging"]["next"], timeout=5).status_code == 200


def test_the_templates_can_be_given(clock):
    custom = [{"name": "only_one", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "1",
               "components": [{"type": "BODY", "text": "Hi {{1}}"}]}]
    with WhatsAppSimulator(access_token=TOKEN, templates=custom, clock=clock) as sim:
        answer = Graph(sim).get(f"{WABA}/message_templates").json()
    assert [t["name"] for t in answer["data"]] == ["only_one"] and "next" not in answer["paging"]


# --- sending --------------------------------------------------------------------------------------

def test_a_template_send_is_accepted_with_a_wamid(sim, graph):
    answer = graph.send(template_body(to="+55 11 99999-8888"))
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["messaging_product"] == "whatsapp"
    assert payload["contacts"] == [{"input": "+55 11 99999-8888", "wa_id": CUSTOMER}]
    wamid = payload["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    [sent] = sim.sent
    assert (sent["id"], sent["wa_id"]) == (wamid, CUSTOMER)
    assert sent["text"] == "Olá José, seu pedido #1234 foi confirmado! Total: R$ 42,90. Obrigado por pedir na Cantina da Nonna."


def test_a_text_send_is_accepted(sim, graph):
    answer = graph.send(text_body("Seu pedido saiu!"))
    assert answer.status_code == 200 and sim.sent[0]["body"]["text"]["body"] == "Seu pedido saiu!"


@pytest.mark.parametrize("params, language, name, code, status", [
    (["José", "#1"], "pt_BR", "order_confirmed", 132000, 400),
    (["José", "#1", "R$ 1,00", "Loja", "extra"], "pt_BR", "order_confirmed", 132000, 400),
    (None, "pt_BR", "no_such_template", 132001, 404),
    (None, "en_US", "order_confirmed", 132001, 404),
    (["Ana", "Loja"], "pt_BR", "promo_fim_de_semana", 132001, 404),
    (["X"], "pt_BR", "cupom_relampago", 132001, 404),
])
def test_template_mistakes_are_refused_synchronously(sim, graph, receiver, params, language, name, code, status):
    answer = graph.send(template_body(name=name, params=params, language=language))
    assert answer.status_code == status and error_of(answer)["code"] == code
    assert error_of(answer)["error_data"]["details"]
    assert sim.sent == [] and sim.drain() and receiver.posts() == []


@pytest.mark.parametrize("change, words", [
    ({"messaging_product": None}, "messaging_product"), ({"to": ""}, "to"), ({"type": "hologram"}, "type"),
    ({"text": {"body": ""}}, "text"), ({"text": {"body": "x" * 4097}}, "4096"),
])
def test_bad_sends_are_refused_with_code_100(sim, graph, change, words):
    answer = graph.send({**text_body("oi"), **change})
    assert answer.status_code == 400 and error_of(answer)["code"] == 100 and words in error_of(answer)["message"]
    assert sim.sent == []


def test_sending_from_another_phone_number_id_is_unsupported(sim):
    answer = requests.post(f"{sim.url}/v23.0/999/messages", json=template_body(), timeout=5,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert error_of(answer)["error_subcode"] == 33


# --- sending faults -------------------------------------------------------------------------------

def test_throughput_limited_refuses_the_next_sends_with_130429(sim, graph):
    graph.control({"throughput_limited": 2})
    answers = [graph.send(template_body()) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 200]
    assert [error_of(a)["code"] for a in answers[:2]] == [130429, 130429] and len(sim.sent) == 1


def test_pair_rate_limit_refuses_the_same_customer_within_the_window(sim, graph, clock):
    graph.control({"pair_rate_limit_s": 6})
    assert graph.send(template_body()).status_code == 200
    refused = graph.send(template_body())
    assert error_of(refused)["code"] == 131056 and "pair rate limit" in error_of(refused)["message"]
    assert graph.send(template_body(to="5521988887777")).status_code == 200
    clock.t += 6
    assert graph.send(template_body()).status_code == 200


def test_server_error_answers_131000_over_500(sim, graph):
    graph.control({"server_error": 1})
    first, second = graph.send(template_body()), graph.send(template_body())
    assert (first.status_code, error_of(first)["code"], second.status_code) == (500, 131000, 200)


def test_the_http_status_of_each_code_is_configurable(graph):
    graph.control({"error_statuses": {"130429": 429}, "throughput_limited": 1})
    assert graph.send(template_body()).status_code == 429


def test_accept_then_timeout_records_the_send_and_notifies_but_never_answers_in_time(sim, graph, receiver):
    graph.control({"accept_then_timeout": 1, "accept_then_timeout_s": 30})
    with pytest.raises(requests.ReadTimeout):
        graph.send(template_body(), timeout=0.5)
    [accepted] = sim.sent
    assert sim.drain() and [s["status"] for s in receiver.statuses(accepted["id"])] == ["sent", "delivered", "read"]
    assert graph.send(template_body(), timeout=5).status_code == 200


def test_the_framework_faults_are_reachable_through_the_control_endpoint(sim, graph):
    graph.control({"status": 503, "extra_headers": {"Retry-After": "7"}})
    answer = graph.get(f"{PHONE_ID}?{FIELDS}")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "7"
    graph.control({"status": None, "extra_headers": {}, "fail_next": 1, "fail_status": 502})
    assert [graph.get(PHONE_ID).status_code for _ in range(2)] == [502, 200]
    graph.control({"delay_s": 2.0})
    with pytest.raises(requests.ReadTimeout):
        graph.get(PHONE_ID, timeout=0.3)
    graph.control({"delay_s": 0.0, "drop": True})
    with pytest.raises(requests.ConnectionError):
        graph.get(PHONE_ID)
    graph.control({"drop": False, "drip_s": 0.001})
    assert graph.get(f"{PHONE_ID}?{FIELDS}").json()["id"] == PHONE_ID


def test_the_standard_knobs_refuse_credentials_rate_limit_and_reset_puts_everything_back(sim, graph):
    """Given the standard knobs set, when a request is made, then it is refused; after "reset": true it succeeds."""
    graph.control({"auth_refused": True})
    assert graph.get(PHONE_ID).status_code == 401
    graph.control({"auth_refused": False, "rate_limited": True, "retry_after_s": 9, "quality_rating": "RED"})
    limited = graph.get(PHONE_ID)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "9"
    knobs = graph.control({"reset": True}).json()
    assert knobs["rate_limited"] is False and knobs["retry_after_s"] == 30 and knobs["quality_rating"] == "GREEN"
    assert graph.get(f"{PHONE_ID}?{FIELDS}").json()["quality_rating"] == "GREEN"
    assert graph.control({"reset": "yes"}).status_code == 400


# --- media ----------------------------------------------------------------------------------------

def test_media_resolves_to_a_url_whose_bytes_need_the_token(sim, graph):
    message = sim.customer_says(CUSTOMER, "Olha a foto", kind="image")
    media_id = message["image"]["id"]
    meta = graph.get(media_id).json()
    assert meta["url"] == f"{sim.url}/_media/{media_id}" and meta["id"] == media_id
    data = graph.session.get(meta["url"], timeout=5)
    assert data.status_code == 200 and data.headers["Content-Type"] == meta["mime_type"] == "image/png"
    assert data.content.startswith(b"\x89PNG") and len(data.content) == meta["file_size"]
    assert hashlib.sha256(data.content).hexdigest() == meta["sha256"] == message["image"]["sha256"]
    assert error_of(requests.get(meta["url"], timeout=5))["code"] == 190
    assert graph.session.get(f"{sim.url}/_media/0000", timeout=5).status_code == 404


def test_add_media_serves_any_bytes(sim, graph):
    media_id = sim.add_media(b"x" * 300_000, "application/pdf")
    meta = graph.get(media_id).json()
    assert meta["file_size"] == 300_000 and graph.session.get(meta["url"], timeout=5).content == b"x" * 300_000


# --- the control endpoint -------------------------------------------------------------------------

def test_every_knob_is_shown_and_settable_and_secrets_are_not_shown(sim, graph):
    state = requests.get(f"{sim.url}/_simulator/state", timeout=5).json()
    assert set(SIM_KNOBS) | set(FAULT_KNOBS) <= set(state["knobs"])
    assert TOKEN not in str(state) and sim.app_secret not in str(state)
    values = {"auth_error_status": 400, "throughput_limited": 3, "pair_rate_limit_s": 6.0, "server_error": 2,
              "accept_then_timeout": 1, "duplicate_notifications": True, "out_of_order_notifications": True,
              "batch_notifications": 5, "undeliverable_numbers": ["5511900000000"], "status_delay_s": 0.2,
              "notifications_paused": True, "reply_probability": 0.5, "reply_text": "Valeu!", "signature_mode": "invalid"}
    assert graph.control(values).status_code == 200
    shown = requests.get(f"{sim.url}/_simulator/state", timeout=5).json()["knobs"]
    assert {name: shown[name] for name in values} == values
    assert sim.reply_text == "Valeu!" and sim.undeliverable_numbers == ["5511900000000"]


@pytest.mark.parametrize("knobs", [{"nope": 1}, {"auth_error_status": 403}, {"throughput_limited": "2"},
                                   {"reply_probability": 2}, {"signature_mode": "maybe"}, {"status": 42},
                                   {"duplicate_notifications": "true"}, {"throughput_limited": 2, "bad": 1},
                                   {"notification_timeout_s": 0}, {"error_statuses": {"131000": 900}},
                                   {"undeliverable_numbers": "5511"}, {"extra_headers": {"Retry-After": 7}}])
def test_a_bad_knob_is_refused_and_changes_nothing(sim, graph, knobs):
    before = sim.knobs()
    answer = graph.control(knobs)
    assert answer.status_code == 400 and answer.json()["error"]
    assert sim.knobs() == before


def test_secrets_and_the_clock_can_be_set_in_a_running_process(sim, graph, clock):
    graph.control({"access_token": "EAAG-rotated", "app_secret": "new-secret", "advance_s": 3600})
    assert Graph(sim, token="EAAG-rotated").get(f"{PHONE_ID}?{FIELDS}").status_code == 200
    assert graph.get(f"{PHONE_ID}?{FIELDS}").status_code == 401
    assert sim.now() == clock.t + 3600 and sim.app_secret == "new-secret"


# --- the command-line hooks -----------------------------------------------------------------------

#: What `manage.py hi_simulator whatsapp` does with the hooks, without needing the service registered.
CLI = """
import argparse, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hi.settings")
import django
django.setup()
from hi.services.whatsapp.simulator import add_cli_arguments, serve_cli
parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int)
add_cli_arguments(parser)
options = vars(parser.parse_args())
serve_cli(options.pop("port"), options, lambda line: print(line, flush=True))
"""


def test_the_cli_hooks_serve_with_their_options_until_interrupted(receiver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-c", CLI, "--port", str(port), "--callback", receiver.hook,
                                "--app-secret", receiver.secret, "--access-token", "EAAG-cli", "--verify-token",
                                receiver.verify_token, "--reply-probability", "1", "--status-delay", "0.05"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "callback:" in line:
                break
        banner = "".join(lines)
        assert f"WhatsApp simulator on http://127.0.0.1:{port}" in banner and "EAAG-cli" in banner, banner
        base = f"http://127.0.0.1:{port}"
        answer = requests.post(f"{base}/v23.0/{PHONE_ID}/messages", json=template_body(), timeout=5,
                               headers={"Authorization": "Bearer EAAG-cli"})
        assert answer.status_code == 200
        assert wait_for(lambda: receiver.messages())  # sent, delivered, read, then the customer's "Obrigado!"
        assert all(receiver.signed(post) for post in receiver.posts()) and len(receiver.statuses()) == 3
        verified = requests.post(f"{base}/_simulator/verify", json={"challenge": "77"}, timeout=5).json()
        assert verified == {"status": 200, "body": "77"}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
