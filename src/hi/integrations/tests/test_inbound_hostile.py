"""Hostile but signed webhook payloads: lone surrogates, NUL, absurd nesting never give 503 forever or a lost row."""
from __future__ import annotations

import json

import pytest

from hi.integrations.core.provider_data import MAX_DEPTH
from hi.integrations.engine.inbound import process_pending
from hi.integrations.models import Event, InboundEvent
from hi.integrations.testing.inbound import post_as_provider
from hi.integrations.tests.test_inbound import body_of, hooked, receiver, resolve, sign, url, webhook_events  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.urls("hi.integrations.tests.test_inbound")]
Status = InboundEvent.Status


def post_signed(integration, receiver, body: bytes):
    """Post `body` signed with the test receiver's secret."""
    return post_as_provider(url(integration), body, sign(receiver.secret, body))


def test_a_signed_event_whose_id_has_a_lone_surrogate_is_refused_with_400_and_logged_every_time(hooked, receiver):
    """Given "\\ud800" in the event id (stored, it would fail to encode), then 400 with an inbound row, again on redelivery."""
    # given
    body = b'{"id": "evt-\\ud800", "type": "order.created"}'
    # when
    answers = [post_signed(hooked, receiver, body).status_code for _ in range(2)]
    # then
    assert answers == [400, 400]
    rows = InboundEvent.objects.filter(integration=hooked)
    assert rows.count() == 2 and set(rows.values_list("status", flat=True)) == {Status.REJECTED}
    row = rows.first()
    assert "event id" in row.reason and "not valid text" in row.reason
    assert row.provider_event_id == "evt-\\ud800"  # shown escaped, never the unstorable character
    assert receiver.accepted == []


def test_a_signed_event_with_nul_and_surrogates_in_its_text_is_accepted_with_that_text_made_safe(hooked, receiver):
    """Given NUL and a lone surrogate in the type and the data, then the event is accepted and processed with escaped text."""
    # given
    body = b'{"id": "evt-ok", "type": "order.\\u0000created\\udc00", "data": {"name\\u0000": "Ana\\ud83d"}}'
    # when
    response = post_signed(hooked, receiver, body)
    processed = process_pending(resolve=resolve)
    # then
    assert response.status_code == 202 and processed == 1
    row = InboundEvent.objects.get(integration=hooked)
    assert row.status == Status.PROCESSED and row.event_type == "order.\\x00created\\udc00"
    assert Event.objects.filter(type="test.webhook_processed").count() == 1


def test_a_payload_nested_past_the_limit_is_refused_with_400_saying_why(hooked, receiver):
    """Given a signed body nested 100,000 levels deep, then 400 'nested deeper than …', not a RecursionError."""
    body = json.dumps({"id": "evt-deep"}).encode()[:-1] + b', "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = post_signed(hooked, receiver, body)
    assert response.status_code == 400
    assert f"nested deeper than {MAX_DEPTH} levels" in InboundEvent.objects.get(integration=hooked).reason
    assert webhook_events(hooked) == 0


def test_header_values_with_nul_are_stored_escaped(hooked, receiver):
    """Given a header value holding a NUL-like escape the WSGI layer passes through, then it is stored safely."""
    body = body_of("evt-h")
    response = post_as_provider(url(hooked), body, {**sign(receiver.secret, body), "X-Note": "a\x00b"})
    assert response.status_code == 202
    assert InboundEvent.objects.get(integration=hooked).headers["X-Note"] == "a\\x00b"
