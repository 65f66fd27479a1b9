"""Property: every service's parser, fed random and hostile payloads, never raises out of its batch loop nor stores anything unbounded."""
# The parsers: iFood's polled events, webhooks and order details; signed webhooks; the demo.
# Hostile means: huge numbers (1e30, 2**64, 1e400, 5,000 digits), NaN/Infinity literals, wrong types,
# nesting from 33 to 100,000 levels, lone surrogates, NUL, and strings up to 300,000 characters,
# anywhere in an otherwise realistic payload. The payloads are written as JSON text (so literals
# Python's json would never write reach the parsers) and go through the same functions the worker
# and the receive URL use; no network is involved, to keep it fast.
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hi.integrations.config.entities import apply_sync
from hi.integrations.config.hookkeys import receive_path
from hi.integrations.config.store import save_attributes
from hi.integrations.contract.receivers import MAX_BODY_BYTES
from hi.integrations.core.errors import ProviderDataError
from hi.integrations.core.provider_data import is_clean_text, loads
from hi.integrations.engine.batches import store_batch
from hi.integrations.engine.inbound import process_pending
from hi.integrations.engine.sync import parse_entities
from hi.integrations.models import Entity, Event, InboundEvent, Integration, IntegrationState
from hi.integrations.outbound import standard_webhooks
from hi.integrations.testing.inbound import post_as_provider
from hi.orders import api
from hi.orders.data import MAX_CENTS, MAX_QUANTITY, OrderDataInvalid
from hi.orders.models import Order, OrderEvent, OrderItem
from hi.services.demo.handlers import item_entity
from hi.services.demo.listeners import ItemStream
from hi.services.ifood.mapping import MappingError, order_data
from hi.services.ifood.polling import ack_ids
from hi.services.ifood.processing import identify
from hi.services.ifood.simulator.data import dumps_details, generate_order

pytestmark = pytest.mark.django_db
PROPERTY = settings(
    max_examples=30, deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example
    ],
)
SECRET = "hostile-test-secret"
WEBHOOK_SECRET = "whsec_aG9zdGlsZS13ZWJob29rLXNlY3JldC1mb3ItdGVzdHM="
MERCHANT = "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a01"


@dataclass(frozen=True)
class Deep:
    """Arrays nested `levels` deep, written straight into the JSON text."""

    levels: int


@dataclass(frozen=True)
class Raw:
    """A literal written as is: NaN, Infinity, 1e400, a 5,000-digit integer."""

    text: str


def to_json(value: Any) -> str:
    """JSON text of a generated value (lone surrogates become \\ud800 escapes, as a provider would send them)."""
    if isinstance(value, Deep):
        return "[" * value.levels + "]" * value.levels
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


ODD_CHARS = st.one_of(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), st.just("\x00"), st.characters())
SHORT_TEXT = st.one_of(st.text(max_size=8), st.text(ODD_CHARS, max_size=8))
TEXT = st.one_of(
    SHORT_TEXT,
    st.sampled_from([256, 5_000, 300_000]).map(lambda n: "N" * n),
    st.sampled_from(
        ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-13-45T99:00:00Z", "2026-12-03T10:00:00Z", "", "PLC", "1e30"]
    ),
)
NUMBER = st.one_of(
    st.integers(min_value=-10**6, max_value=10**6),
    st.sampled_from([10**17, 10**30, -10**30, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([Raw("1e400"), Raw("-1e999999"), Raw("1" * 5000), Raw("NaN"), Raw("-Infinity"), Raw("1e30"), Raw("0.0001")]),
)
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
VALUE = st.recursive(
    SCALAR | st.sampled_from([Deep(33), Deep(40), Deep(2_000), Deep(100_000)]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SHORT_TEXT, inner, max_size=3),
    max_leaves=6,
)
UUIDS = st.uuids().map(str)
IFOOD_EVENT = st.fixed_dictionaries(
    {
        "id": UUIDS | TEXT | NUMBER,
        "code": st.sampled_from(["PLC", "CFM", "PRS", "RTP", "DSP", "CON", "CAN", "CAR", "CARF", "KEEPALIVE", "ZZZ"]) | VALUE,
        "orderId": UUIDS | VALUE,
        "merchantId": st.just(MERCHANT) | VALUE,
        "createdAt": st.just("2026-12-03T10:00:00.123Z") | TEXT | VALUE,
    },
    optional={"metadata": VALUE, "fullCode": TEXT, "merchantIds": VALUE},
)


def assert_stored_bounded() -> None:
    """Everything stored from providers fits its column, is valid text, and every order reads back in range."""
    for row in InboundEvent.objects.all():
        assert len(row.provider_event_id) <= 255 and len(row.event_type) <= 100 and len(row.reason) <= 4000
        assert len(row.body) <= MAX_BODY_BYTES
        assert all(is_clean_text(text) for text in (row.provider_event_id, row.event_type, row.reason, row.body))
    for order in Order.objects.all():
        assert len(order.customer_name) <= 200 and len(order.customer_phone) <= 60 and len(order.display_id) <= 40
        assert len(order.notes) <= 4000 and abs(order.total_q) <= MAX_CENTS
    for item in OrderItem.objects.all():
        assert 0 < item.quantity <= MAX_QUANTITY and len(item.name) <= 255 and abs(item.unit_price_q) <= MAX_CENTS
    assert all(len(e.message) <= 4000 for e in OrderEvent.objects.all())
    for entity in Entity.objects.all():
        assert len(entity.external_id) <= 255 and len(entity.name) <= 255 and len(entity.kind) <= 64
    for event in Event.objects.all():
        json.dumps(event.data, allow_nan=False).encode("utf-8")


def integration_of(workspace, type_id: str, **attributes: str) -> Integration:
    """An active integration row of a type (no provider needed: nothing here calls it)."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type=type_id, name=type_id, unique_id=f"acct-{type_id}", state=IntegrationState.ACTIVE,
    )
    if attributes:
        save_attributes(integration, attributes, actor="test")
    return integration


@pytest.fixture
def ifood(workspace) -> Integration:
    """An active iFood integration whose webhooks are signed with SECRET."""
    return integration_of(workspace, "ifood", client_id="c", client_secret=SECRET, merchant_ids=MERCHANT, event_mode="webhook")


@PROPERTY
@given(items=st.lists(IFOOD_EVENT | VALUE, max_size=5))
def test_ifood_polled_batches_never_raise_out_of_the_batch_loop_and_store_nothing_unbounded(ifood, items):
    """Given any poll answer, then it is refused whole (not JSON hi reads) or every item is stored, failed or a duplicate."""
    try:
        events = loads(to_json(items), max_depth=None)
    except ProviderDataError:
        return  # the answer as a whole is unreadable: the poll fails visibly (the job, then Degraded)
    outcome = store_batch(ifood, events, identify, source="polling")
    assert outcome.new + outcome.failed + outcome.duplicates == len(events)
    ack_ids(events)
    process_pending()
    assert not InboundEvent.objects.filter(status=InboundEvent.Status.ACCEPTED).exists()
    assert_stored_bounded()


@PROPERTY
@given(event=IFOOD_EVENT | VALUE)
def test_ifood_signed_webhooks_are_answered_2xx_or_4xx_and_processed_without_raising(ifood, event):
    """Given any signed iFood webhook, then never a 5xx, and the worker's pass processes it or records why not."""
    from hi.integrations.outbound.signing import hmac_sha256_hex

    body = to_json(event).encode("utf-8", "surrogatepass")
    response = post_as_provider(receive_path(ifood), body, {"X-IFood-Signature": hmac_sha256_hex(SECRET, body)})
    assert 200 <= response.status_code < 500, response.content
    process_pending()
    assert_stored_bounded()


def details_with(mutations: list[tuple[int, Any]], seed: int) -> str:
    """Realistic iFood order details (the simulator's) with some values, at positions picked by index, replaced."""
    details = json.loads(dumps_details(generate_order(random.Random(seed), merchant={"id": MERCHANT, "name": "Cantina"}, now=time.time())))
    slots: list[tuple[Any, Any]] = []
    stack = [details]
    while stack:
        node = stack.pop()
        for key in (node if isinstance(node, dict) else range(len(node))):
            slots.append((node, key))
            if isinstance(node[key], (dict, list)):
                stack.append(node[key])
    for index, value in mutations:
        node, key = slots[index % len(slots)]
        node[key] = value
    return to_json(details)


@PROPERTY
@given(mutations=st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), VALUE), min_size=1, max_size=3), seed=st.integers(0, 50))
def test_ifood_order_details_are_stored_bounded_or_refused_in_words(workspace, mutations, seed):
    """Given order details with hostile values anywhere, then the order is stored within bounds or refused with a readable error."""
    text = details_with(mutations, seed)
    try:
        details = loads(text, parse_float=Decimal)
        assert isinstance(details, dict)
        with transaction.atomic():
            api.create_order(workspace, order_data(details), source=None, actor="test")
    except (ProviderDataError, MappingError, OrderDataInvalid) as exc:
        assert str(exc)
    assert_stored_bounded()


@pytest.fixture
def endpoint(workspace) -> Integration:
    """An active signed-webhooks endpoint (its outbound URL is never called)."""
    return integration_of(workspace, "webhook", url="https://example.com/hook", secret=WEBHOOK_SECRET, events="*")


@PROPERTY
@given(
    payload=VALUE, message_id=st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="."), min_size=1, max_size=40)
)
def test_signed_webhooks_with_hostile_bodies_are_never_5xx_and_processing_never_fails(endpoint, payload, message_id):
    """Given any body signed under Standard Webhooks, then 2xx or 4xx, and what was accepted is published as webhook.received."""
    body = to_json(payload).encode("utf-8", "surrogatepass")
    headers = standard_webhooks.headers(message_id, int(time.time()), body, [WEBHOOK_SECRET])
    response = post_as_provider(receive_path(endpoint), body, headers)
    assert 200 <= response.status_code < 500, response.content
    process_pending()
    assert not InboundEvent.objects.filter(status__in=[InboundEvent.Status.FAILED, InboundEvent.Status.ACCEPTED]).exists()
    assert_stored_bounded()


@PROPERTY
@given(items=st.lists(
    st.fixed_dictionaries({"id": UUIDS | TEXT | NUMBER, "name": TEXT | VALUE}, optional={"kind": TEXT | VALUE, "status": VALUE}) | VALUE,
    max_size=5
))
def test_demo_item_lists_and_pushed_items_never_fail_the_sync_or_the_stream(workspace, items):
    """Given any item list (a sync) and the same items pushed one by one, then readable items are stored bounded, the rest skipped."""
    demo = Integration.objects.filter(integration_type="demo").first() or integration_of(workspace, "demo")
    try:
        listed = loads(to_json(items), max_depth=None)
    except ProviderDataError:
        listed = []  # the page as a whole is unreadable: the sync fails as a provider error
    apply_sync(demo, parse_entities(demo, listed, item_entity))
    stream = ItemStream(demo)
    for item in items:
        stream._dispatch(to_json({"type": "item.updated", "item": item}))
    assert_stored_bounded()
