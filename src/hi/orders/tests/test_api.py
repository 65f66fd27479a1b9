"""api: idempotent creation (also under a race), events after commit only, awaiting and cancellation markers, history."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from standardwebhooks.webhooks import Webhook

from hi.integrations.config import setup
from hi.integrations.engine.execution import claim, execute
from hi.integrations.models import Event
from hi.integrations.outbox.events import EVENT_DESCRIPTIONS, EVENT_TYPES
from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.concurrency import at_once
from hi.integrations.testing.fakeserver import json_response
from hi.integrations.types import IntegrationType
from hi.orders import api
from hi.orders.models import REF_ALPHABET, Order, OrderEvent, OrderItem, OrderStatus

from .helpers import make_order, order_data, source_for

SECRET = "whsec_b3JkZXJzLWh1Yi10ZXN0LXNlY3JldC1jYW5hcnk="


def test_create_order_stores_everything_in_cents_with_history_and_one_event(workspace, django_capture_on_commit_callbacks):
    # given a source integration
    source = source_for(workspace)
    # when an order is created from it
    with django_capture_on_commit_callbacks() as callbacks:
        order, created = api.create_order(workspace, order_data(), source=source, actor="ifood")
    # then it is stored whole, with a ref, the source's label, items in order and the payment
    assert created and order.status == OrderStatus.NEW and order.placed_at is not None
    prefix, day, random_part = order.ref.split("-")
    assert prefix == "ORD" and len(day) == 8 and day.isdigit() and len(random_part) == 8 and set(random_part) <= set(REF_ALPHABET)
    assert (order.source_type, order.source_label, order.external_id, order.display_id) == ("demo", "Corner Shop", "ext-1", "4821")
    assert (order.subtotal_q, order.delivery_fee_q, order.discount_q, order.total_q) == (3490, 500, 300, 3690)
    assert order.payments == [{"method": "CREDIT", "prepaid": True, "amount_q": 3690, "change_for_q": None, "detail": "VISA"}]
    first, second = order.items.all()
    assert (first.name, first.quantity, first.total_q, second.options[0]["name"]) == ("Cheeseburger", Decimal("2"), 2500, "Cheddar")
    assert list(order.history.values_list("kind", "actor")) == [("created", "ifood")]
    # and order.created is recorded, to be dispatched once the transaction commits
    event = Event.objects.get(type="order.created")
    assert event.integration == source and event.workspace == workspace
    assert event.data == {
        "ref": order.ref, "source": str(source.pk), "source_type": "demo", "external_id": "ext-1", "display_id": "4821",
        "type": "delivery", "status": "new", "customer_name": "Ana Souza", "total_q": 3690, "currency": "BRL", "items": 2,
    }
    assert len(callbacks) == 1


def test_creating_the_same_external_order_twice_returns_the_first_and_changes_nothing(workspace):
    # given an order already created from a source
    source = source_for(workspace)
    first, _ = api.create_order(workspace, order_data(), source=source, actor="ifood")
    # when the same external id arrives again, even with other data
    again, created = api.create_order(workspace, order_data(total_q=1, customer_name="Someone else"), source=source, actor="ifood")
    # then the first order is returned untouched, and nothing else was recorded
    assert (again.pk, created) == (first.pk, False)
    assert Order.objects.count() == 1 and OrderItem.objects.count() == 2
    assert Event.objects.filter(type="order.created").count() == 1 and OrderEvent.objects.count() == 1
    assert Order.objects.get().total_q == 3690


def test_the_same_external_id_from_two_sources_or_hand_made_orders_are_distinct(workspace):
    # given two sources
    one, two = source_for(workspace, "One"), source_for(workspace, "Two")
    # when each sends "ext-1", and two orders are made by hand
    for source in (one, two):
        api.create_order(workspace, order_data(), source=source, actor="t")
    make_order(workspace)
    make_order(workspace)
    # then there are four orders
    assert Order.objects.count() == 4 and len(set(Order.objects.values_list("ref", flat=True))) == 4


def test_the_database_refuses_a_second_order_per_source_and_external_id(workspace):
    source = source_for(workspace)
    order = make_order(workspace, source)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(workspace=workspace, source=source, external_id=order.external_id)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_of_one_external_order_store_it_once(workspace):
    # given one source, and the same order arriving in six threads at once (the constraint decides)
    source = source_for(workspace)
    # when
    results = at_once(6, lambda: api.create_order(workspace, order_data(), source=source, actor="ifood")[1])
    # then exactly one created it, and one order, one history entry and one event exist
    assert sorted(results) == [False] * 5 + [True]
    assert Order.objects.count() == 1 and OrderItem.objects.count() == 2 and OrderEvent.objects.count() == 1
    assert Event.objects.filter(type="order.created").count() == 1


def test_a_rolled_back_creation_leaves_no_order_and_no_event(workspace, django_capture_on_commit_callbacks):
    # given a caller whose transaction fails after creating the order
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            api.create_order(workspace, order_data(), source=source_for(workspace), actor="ifood")
            raise RuntimeError("the caller's later step failed")
    # then nothing was stored and nothing was dispatched
    assert not Order.objects.exists() and not Event.objects.exists() and callbacks == []


def test_status_changed_is_dispatched_only_after_commit(workspace, django_capture_on_commit_callbacks):
    # given an order
    order = make_order(workspace)
    # when it moves inside the caller's transaction
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            api.transition(order, "confirmed", actor="test")
            # then until the commit the event is stored but not dispatched
            assert Event.objects.get(type="order.status_changed").dispatched_at is None
    # and after it, it is
    assert Event.objects.get(type="order.status_changed").dispatched_at is not None


def test_a_totals_problem_is_recorded_and_not_fixed(workspace):
    order = make_order(
        workspace, source_for(workspace), total_q=9999, totals_problem="items + fees − benefits = 36.90 but the order says 99.99"
    )
    assert order.total_q == 9999
    assert list(order.history.order_by("id").values_list("kind", flat=True)) == ["created", "totals_problem"]
    assert "99.99" in order.history.get(kind="totals_problem").message


def test_awaiting_is_shown_until_the_next_transition(workspace):
    # given an order whose source was asked to confirm
    order = make_order(workspace, source_for(workspace))
    api.set_awaiting(order, "Confirm", actor="olivia")
    assert Order.objects.get().awaiting_label == "Confirm" and order.awaiting_since is not None
    # when the confirming event arrives
    api.transition(order, "confirmed", actor="ifood")
    # then the marker is gone, and history tells the story
    stored = Order.objects.get()
    assert stored.awaiting_label == "" and stored.awaiting_since is None
    assert list(stored.history.order_by("id").values_list("kind", flat=True)) == ["created", "awaiting", "status_changed"]


def test_awaiting_and_cancellation_requests_can_be_cleared(workspace):
    order = make_order(workspace, source_for(workspace))
    api.set_awaiting(order, "Dispatch", actor="olivia")
    api.clear_awaiting(order, actor="ifood", message="iFood refused: order already dispatched")
    api.set_cancellation_request(order, "Customer gave up", actor="ifood")
    assert Order.objects.get().cancellation_request_reason == "Customer gave up"
    api.clear_cancellation_request(order, actor="olivia", message="Cancellation denied")
    stored = Order.objects.get()
    assert (stored.awaiting_label, stored.cancellation_request_reason, stored.cancellation_requested_at) == ("", "", None)
    assert "Cancellation denied" in stored.history.get(kind="cancellation_request_cleared").message


def test_ending_the_order_settles_a_cancellation_request(workspace):
    order = make_order(workspace)
    api.set_cancellation_request(order, "Too late", actor="ifood")
    api.transition(order, "cancelled", actor="ifood")
    assert Order.objects.get().cancellation_requested_at is None


def test_history_is_append_only(workspace):
    entry = make_order(workspace).history.get()
    entry.message = "rewritten"
    with pytest.raises(ValueError):
        entry.save()


def test_removing_the_source_keeps_the_order_and_its_label(workspace):
    source = source_for(workspace)
    order = make_order(workspace, source)
    source.delete()
    order.refresh_from_db()
    assert order.source is None and order.source_label == "Corner Shop" and order.source_type == "demo"
    assert order.history.get().integration is None


def test_both_order_events_are_in_the_catalog():
    for name in ("order.created", "order.status_changed"):
        assert name in EVENT_TYPES and EVENT_DESCRIPTIONS[name]
    assert {"old_status", "new_status", "at"} <= set(EVENT_TYPES["order.status_changed"])


@pytest.fixture
def receiver():
    """A local HTTP receiver that records webhook POSTs."""
    server = FakeProviderServer()
    server.route("POST", "/hook", lambda request: json_response(200, {"ok": True}))
    server.start()
    yield server
    server.stop()


def test_a_webhook_endpoint_gets_a_signed_delivery_of_order_created(workspace, receiver, settings, django_capture_on_commit_callbacks):
    # given a webhook endpoint subscribed to order.* on a local receiver
    settings.HI_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    setup.add_integration(
        workspace, IntegrationType.WEBHOOK, "n8n", {"url": f"{receiver.url}/hook", "secret": SECRET, "events": "order.*"}, actor="test"
    )
    # when an order is created and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(workspace)
    # and the worker runs the delivery
    for directive in claim("w", 10):
        execute(directive, "w")
    # then the receiver got order.created, signed, with the order's data
    posts = [r for r in receiver.requests_to("/hook") if r.json().get("type") == "order.created"]
    assert len(posts) == 1
    body = json.loads(Webhook(SECRET).verify(posts[0].body, posts[0].headers) and posts[0].body)
    assert body["data"]["ref"] == order.ref and body["data"]["total_q"] == 3690 and body["data"]["source"] is None
