"""The receiving recipes of docs/services/webhook.md, run as readers run them, against hi's real deliveries."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from hi.integrations.api import IntegrationType
from hi.integrations.testing import setup

from .helpers import SECRET, add_endpoint, emit, run_due
from .recipes import (
    N8N_CODE_NODE,
    NODE_DIR,
    NODE_RECEIVER,
    PYTHON_RECEIVER,
    RECIPES,
    n8n_workflow,
    node_receiver,
    python_receiver,
    python_recipe,
)
from .sink import HEADER_AUTH_REFUSAL, WebhookSink

DOC = Path(settings.BASE_DIR) / "docs" / "services" / "webhook.md"
#: A marker line, then the fenced block that must hold the named file exactly.
QUOTED = re.compile(r"<!-- recipe: (?P<path>[\w./-]+) -->\n```[a-z]*\n(?P<code>.*?)```\n", re.DOTALL)
#: Non-ASCII that hi sends escaped (\u00e9): a re-serialised body would differ from the signed one.
CUSTOMER = "José Conceição"
OTHER = "whsec_b3RoZXItc2VjcmV0LXRoYXQtdGhlLXJlY2VpdmVyLWhhcw=="


def received_events(receiver, count: int) -> list[dict]:
    """The next `count` non-ping events the receiver printed."""
    found = []
    while len(found) < count:
        line = receiver.event()
        assert line, f"the receiver printed nothing more after {found}"
        event = json.loads(line)
        if event["type"] != "ping":
            found.append(event)
    return found


def deliver_orders(workspace, capture) -> None:
    """Two order events, one with only ASCII and one with a customer's accented name, sent by the worker's code."""
    emit(capture, workspace, "order.created", {"ref": "A-1", "total_cents": 1990})
    emit(capture, workspace, "order.created", {"ref": "A-2", "customer": CUSTOMER, "total_cents": 2500})
    run_due()


def test_the_docs_quote_every_recipe_file_exactly():
    quoted = {match["path"]: match["code"] for match in QUOTED.finditer(DOC.read_text())}
    files = {path: RECIPES / path for path in ("python/receiver.py", "node/receiver.js", "node/package.json", "n8n/verify-signature.js")}
    assert set(quoted) == set(files)
    for path, file in files.items():
        assert quoted[path] == file.read_text(), f"docs/services/webhook.md quotes an older {path}"
    assert {PYTHON_RECEIVER, NODE_RECEIVER, N8N_CODE_NODE, NODE_DIR / "package.json"} == set(files.values())


def test_the_python_recipe_verifies_real_deliveries_and_refuses_another_secret(workspace, django_capture_on_commit_callbacks):
    receiver = python_receiver(SECRET)
    try:
        add_endpoint(workspace, receiver.url, events="order.*")
        deliver_orders(workspace, django_capture_on_commit_callbacks)
        first, second = received_events(receiver, 2)
    finally:
        receiver.stop()
    assert first["data"] == {"ref": "A-1", "total_cents": 1990}
    assert second["data"]["customer"] == CUSTOMER
    stranger = python_receiver(OTHER)
    try:
        with pytest.raises(setup.SetupError) as caught:
            setup.add_integration(workspace, IntegrationType.WEBHOOK, "", {"url": f"{stranger.url}other", "secret": SECRET}, actor="test")
    finally:
        stranger.stop()
    assert "refused the signature (HTTP 401)" in caught.value.message and "“invalid signature”" in caught.value.message


def test_the_node_recipe_verifies_real_deliveries(workspace, django_capture_on_commit_callbacks):
    receiver = node_receiver(SECRET)
    try:
        add_endpoint(workspace, receiver.url, events="order.*")
        deliver_orders(workspace, django_capture_on_commit_callbacks)
        first, second = received_events(receiver, 2)
    finally:
        receiver.stop()
    assert first["data"]["ref"] == "A-1" and second["data"]["customer"] == CUSTOMER


def test_the_n8n_code_node_verifies_real_deliveries_and_each_failure_looks_as_documented(workspace, django_capture_on_commit_callbacks):
    workflow = n8n_workflow(SECRET, ("X-Hi-Key", "kitchen-key"))
    try:
        headers = json.dumps({"X-Hi-Key": "kitchen-key"})
        # what each failure looks like in hi: a wrong Header Auth value, then a secret n8n does not have
        for raw, said in (
            (
                {"headers": json.dumps({"X-Hi-Key": "last-years-key"}), "secret": SECRET},
                "(HTTP 403): that is usually its own authentication, not the signature. Check the extra headers "
                f"(for n8n: the Header Auth credential's name and value). It answered: “{HEADER_AUTH_REFUSAL}”."
            ),
            (
                {"headers": headers, "secret": OTHER},
                "refused the signature (HTTP 401): configure this secret there, then test again. It answered: “invalid signature”."
            ),
        ):
            with pytest.raises(setup.SetupError) as caught:
                setup.add_integration(workspace, IntegrationType.WEBHOOK, "", {"url": workflow.url, **raw}, actor="test")
            assert said in caught.value.message
        add_endpoint(workspace, workflow.url, events="order.*", headers=headers)
        deliver_orders(workspace, django_capture_on_commit_callbacks)
        first, second = received_events(workflow, 2)
    finally:
        workflow.stop()
    assert first["data"]["ref"] == "A-1" and second["data"]["customer"] == CUSTOMER


def test_a_check_over_a_re_serialised_body_passes_ascii_events_and_fails_accented_ones(workspace, django_capture_on_commit_callbacks):
    with WebhookSink() as sink:
        add_endpoint(workspace, sink.endpoint, events="order.*")
        deliver_orders(workspace, django_capture_on_commit_callbacks)
        ascii_only, accented = sink.deliveries()[-2:]
    recipe = python_recipe()
    for request in (ascii_only, accented):
        recipe.verify(SECRET, request.body, request.headers)  # the raw bytes always verify
    assert b"\\u00e9" in accented.body and CUSTOMER.encode() not in accented.body

    def re_serialised(request) -> bytes:
        """The request's JSON as a tool that parsed it sends it on."""
        # What a tool that parsed the JSON sends on (JavaScript's JSON.stringify keeps "é" as it is).
        return json.dumps(json.loads(request.body), separators=(",", ":"), ensure_ascii=False).encode()

    recipe.verify(SECRET, re_serialised(ascii_only), ascii_only.headers)
    with pytest.raises(recipe.WebhookVerificationError):
        recipe.verify(SECRET, re_serialised(accented), accented.headers)
