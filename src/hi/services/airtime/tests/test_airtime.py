"""Buying vouchers for confirmed orders: one per unit, once per reference, whatever the provider does to the answers."""
from __future__ import annotations

import pytest

from hi.integrations.api import DirectiveStatus, Event, IntegrationType, SetupError, decrypt
from hi.integrations.testing import setup
from hi.orders.models import OrderEvent
from hi.services.airtime.jobs import check_pending
from hi.services.airtime.models import Voucher

from .conftest import attributes, confirm, new_order, run_directives

pytestmark = pytest.mark.django_db

DONE, QUEUED, FAILED = DirectiveStatus.DONE, DirectiveStatus.QUEUED, DirectiveStatus.FAILED


def events(kind: str) -> list[dict]:
    """The data of the published events of one type, oldest first."""
    return [event.data for event in Event.objects.filter(type=kind).order_by("created_at")]


def test_a_confirmed_order_buys_one_voucher_per_unit_of_each_airtime_line(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given an order with two Claro top-ups, one Vivo top-up and a burger
    order = new_order(workspace, ("AIR-CLARO-10", "2", 1000), ("BURGER-1", "1", 2500), ("AIR-VIVO-20", "1", 2000))
    # when the operator confirms it and the worker runs the directives
    confirm(order, django_capture_on_commit_callbacks)
    assert run_directives(airtime) == [DONE, DONE]
    # then the provider sold three vouchers, each under its own reference, amounts as decimal strings
    sold = {ref: (t.product_id, t.phone_number, t.amount, t.currency) for ref, t in sim.transactions.items()}
    assert sold == {
        f"{order.ref}:0:1": ("claro-br", "+5511999990000", "10.00", "BRL"),
        f"{order.ref}:0:2": ("claro-br", "+5511999990000", "10.00", "BRL"),
        f"{order.ref}:2:1": ("vivo-br", "+5511999990000", "20.00", "BRL"),
    }
    # and hi keeps each, issued, with the provider's code (encrypted), and published it
    kept = {v.reference: v for v in Voucher.objects.filter(order=order)}
    assert {ref: v.status for ref, v in kept.items()} == {ref: Voucher.Status.SUCCESS for ref in sold}
    assert {ref: decrypt(v.code) for ref, v in kept.items()} == {ref: t.voucher_code for ref, t in sim.transactions.items()}
    assert sorted(e["reference"] for e in events("voucher.issued")) == sorted(sold)


def test_an_order_without_airtime_lines_and_other_statuses_buy_nothing(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given
    burgers = new_order(workspace, ("BURGER-1", "2", 2500))
    # when the burger order is confirmed, and an airtime order only created
    confirm(burgers, django_capture_on_commit_callbacks)
    new_order(workspace, ("AIR-CLARO-10", "1", 1000))
    # then
    assert run_directives(airtime) == [] and sim.transactions == {}


def test_a_retried_directive_never_buys_a_second_voucher(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given a line bought once
    order = new_order(workspace, ("AIR-CLARO-10", "1", 1000))
    confirm(order, django_capture_on_commit_callbacks)
    run_directives(airtime)
    first = Voucher.objects.get(order=order)
    # when hi forgets it asked (as a worker dying before it recorded the answer) and the directive runs again
    Voucher.objects.filter(pk=first.pk).update(status=Voucher.Status.QUEUED, code="", transaction_id="")
    airtime.directives.update(status=QUEUED)
    run_directives(airtime)
    # then the provider answered the same reference with the first purchase: one voucher, the same code
    assert len(sim.transactions) == 1
    again = Voucher.objects.get(order=order)
    assert (again.transaction_id, decrypt(again.code)) == (first.transaction_id, decrypt(first.code))


def test_a_lost_response_is_retried_and_returns_the_first_voucher(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given a provider that makes the purchase and then loses the answer (the client never re-sends after a read error)
    sim.lose_responses = 1
    order = new_order(workspace, ("AIR-CLARO-10", "1", 1000))
    confirm(order, django_capture_on_commit_callbacks)
    # when the directive runs, fails for want of an answer, and is retried
    assert run_directives(airtime) == [QUEUED]
    assert Voucher.objects.get(order=order).status == Voucher.Status.QUEUED and len(sim.transactions) == 1
    assert run_directives(airtime) == [DONE]
    # then hi holds the provider's one voucher, published once
    [(reference, bought)] = sim.transactions.items()
    voucher = Voucher.objects.get(order=order)
    assert (voucher.reference, voucher.status, decrypt(voucher.code)) == (reference, Voucher.Status.SUCCESS, bought.voucher_code)
    assert len(events("voucher.issued")) == 1


def test_a_provider_outage_is_retried_on_the_schedule(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given the provider answers 503
    sim.faults.status = 503
    order = new_order(workspace, ("AIR-VIVO-20", "1", 2000))
    confirm(order, django_capture_on_commit_callbacks)
    # when the worker tries, fails, and tries again once the provider is back
    assert run_directives(airtime) == [QUEUED]
    assert Voucher.objects.get(order=order).status == Voucher.Status.QUEUED
    sim.faults.status = None
    assert run_directives(airtime) == [DONE]
    # then one voucher was bought, after the outage
    assert len(sim.transactions) == 1 and Voucher.objects.get(order=order).status == Voucher.Status.SUCCESS


def test_a_pending_voucher_is_checked_until_it_succeeds(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given the provider settles this purchase later, after one more check
    sim.outcome, sim.pending_checks = "pending", 1
    order = new_order(workspace, ("AIR-CLARO-10", "1", 1000))
    confirm(order, django_capture_on_commit_callbacks)
    run_directives(airtime)
    voucher = Voucher.objects.get(order=order)
    assert (voucher.status, voucher.code, events("voucher.issued")) == (Voucher.Status.PENDING, "", [])
    # when the scheduled check runs twice
    check_pending(airtime)
    assert Voucher.objects.get(order=order).status == Voucher.Status.PENDING
    check_pending(airtime)
    # then the voucher is issued, with its code, and published once
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.SUCCESS
    assert decrypt(voucher.code) == sim.transactions[voucher.reference].voucher_code
    assert [e["reference"] for e in events("voucher.issued")] == [voucher.reference]
    check_pending(airtime)
    assert len(events("voucher.issued")) == 1 and len(sim.requests_to(f"/status/{voucher.transaction_id}")) == 2


def test_a_failed_purchase_is_published_with_the_provider_s_reason(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given the provider refuses the top-up
    sim.outcome = "failed"
    order = new_order(workspace, ("AIR-CLARO-10", "1", 1000))
    # when
    confirm(order, django_capture_on_commit_callbacks)
    run_directives(airtime)
    # then
    voucher = Voucher.objects.get(order=order)
    assert (voucher.status, voucher.code, voucher.message) == (Voucher.Status.FAILED, "", "The operator refused the top-up.")
    assert [(e["reference"], e["message"]) for e in events("voucher.failed")] == [(voucher.reference, "The operator refused the top-up.")]
    assert OrderEvent.objects.filter(order=order, kind="airtime_voucher", message__contains="failed").exists()


def test_a_pending_purchase_that_fails_later_is_published_as_failed(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given
    sim.outcome, sim.settles_as = "pending", "failed"
    order = new_order(workspace, ("AIR-VIVO-20", "1", 2000))
    confirm(order, django_capture_on_commit_callbacks)
    run_directives(airtime)
    # when
    check_pending(airtime)
    # then
    assert Voucher.objects.get(order=order).status == Voucher.Status.FAILED
    assert len(events("voucher.failed")) == 1 and events("voucher.issued") == []


def test_an_order_without_a_usable_phone_fails_without_asking_the_provider(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given
    order = new_order(workspace, ("AIR-CLARO-10", "1", 1000), phone="call the shop")
    # when
    confirm(order, django_capture_on_commit_callbacks)
    assert run_directives(airtime) == [DONE]
    # then
    assert sim.requests_to("/issue") == []
    assert Voucher.objects.get(order=order).status == Voucher.Status.FAILED and len(events("voucher.failed")) == 1


def test_a_purchase_the_provider_refuses_as_invalid_fails_at_once(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given a product the provider does not sell any more
    del sim.products["vivo-br"]
    order = new_order(workspace, ("AIR-VIVO-20", "1", 2000))
    # when
    confirm(order, django_capture_on_commit_callbacks)
    assert run_directives(airtime) == [DONE]
    # then the 422 is the voucher's failure, and nothing was sold
    voucher = Voucher.objects.get(order=order)
    assert voucher.status == Voucher.Status.FAILED and "HTTP 422" in voucher.message and sim.transactions == {}


def test_a_fractional_quantity_is_refused_in_the_directive(workspace, sim, airtime, django_capture_on_commit_callbacks):
    # given
    order = new_order(workspace, ("AIR-CLARO-10", "1.5", 1000))
    # when
    confirm(order, django_capture_on_commit_callbacks)
    # then
    assert run_directives(airtime) == [FAILED]
    assert "only whole numbers" in airtime.directives.get().last_error and sim.transactions == {}


@pytest.mark.parametrize(
    ("product_map", "says"),
    [("", "is required"), (" , ", "at least one"), ("AIR-1", "is not SKU=product"), ("AIR 1=claro-br", "is not SKU=product"),
     ("AIR-1=claro-br, AIR-1=vivo-br", "given twice")],
)
def test_the_product_map_is_checked_offline(sim, product_map: str, says: str):
    # when
    with pytest.raises(SetupError) as caught:
        setup.check_configuration(IntegrationType.AIRTIME, attributes(sim, product_map=product_map))
    # then
    assert says in caught.value.field_errors["product_map"] and sim.requests == []
