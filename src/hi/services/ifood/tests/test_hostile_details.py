"""Order details hi cannot store fail their fetch once, permanently, in words; details it can store are bounded."""
from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from hi.integrations.api import MAX_DEPTH, Directive, DirectiveStatus
from hi.orders.models import Order
from hi.services.ifood.handlers import TOPIC_FETCH

from .helpers import work

pytestmark = pytest.mark.django_db


def fetch_of(order_id: str) -> Directive:
    """The fetch directive of one iFood order."""
    return Directive.objects.get(topic=TOPIC_FETCH, payload__order_id=order_id)


def tracebacks(caplog) -> list[str]:
    """Error lines of the log that carry a traceback."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and "Traceback" in r.getMessage()]


@pytest.mark.parametrize(("tweak", "words"), [
    (lambda d: d["items"][0].update(quantity=1e30), ["item 1", "quantity 1E+30 is out of range"]),
    (lambda d: d["items"][0].update(unitPrice=1e30), ["item 1", "unit price 1E+30 is out of range"]),
    (lambda d: d["total"].update(orderAmount=Decimal("1e17")), ["orderAmount", "is out of range"]),
    (lambda d: d.update(total="12.50"), ["total is not an object"]),
    (lambda d: d.update(items=5), ["items is not a list"]),
    (lambda d: d.update(customer=["Ana"]), ["customer is not an object"]),
    (lambda d: d["items"][0].update(options=[{"name": "x", "quantity": "NaN"}]), ["option", "quantity"]),
])
def test_details_hi_cannot_store_fail_the_fetch_at_once_permanently_saying_why(ifood, ifood_sim, caplog, tweak, words):
    """Given details with a value hi cannot store, then the fetch fails on its first attempt, in words, with no traceback."""
    # given
    order_id = ifood_sim.place_order(tweak=tweak)
    # when
    work(ifood, rounds=2)
    # then
    fetch = Directive.objects.get(topic=TOPIC_FETCH)
    assert (fetch.status, fetch.attempts) == (DirectiveStatus.FAILED, 1), fetch.last_error
    assert all(word in fetch.last_error for word in words), fetch.last_error
    assert not Order.objects.exists() and order_id
    assert tracebacks(caplog) == []


def test_details_nested_100k_deep_fail_the_fetch_permanently_not_as_a_recursion_error(ifood, ifood_sim, caplog):
    """Given details nested 100,000 levels deep, then the fetch fails once, saying the answer is nested too deep."""
    order_id = ifood_sim.place_order()
    ifood_sim.route("GET", "/order/v1.0/orders/{order_id}", lambda request: (
        200, {"Content-Type": "application/json"}, b'{"id": "' + order_id.encode() + b'", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ))
    work(ifood, rounds=2)
    fetch = fetch_of(order_id)
    assert (fetch.status, fetch.attempts) == (DirectiveStatus.FAILED, 1)
    assert f"nested deeper than {MAX_DEPTH} levels" in fetch.last_error
    assert tracebacks(caplog) == []


def test_a_five_million_character_name_is_stored_cut_with_the_order_saying_so(ifood, ifood_sim):
    """Given a customer name of 5,000,000 characters, then the order is kept with its first 200 and the history says so."""
    order_id = ifood_sim.place_order(tweak=lambda d: d["customer"].update(name="N" * 5_000_000))
    work(ifood, rounds=2)
    order = Order.objects.get(external_id=order_id)
    assert len(order.customer_name) == 200
    assert order.history.filter(kind="data_adjusted", message__contains="customer name was cut from 5,000,000").exists()
