"""The status flow: every legal and illegal pair of the transition table, through api.transition."""
from __future__ import annotations

import itertools

import pytest

from hi.integrations.models import Event
from hi.orders import api
from hi.orders.errors import IllegalTransition
from hi.orders.flow import TRANSITIONS, path_to
from hi.orders.models import STATUS_TIMESTAMPS, Order, OrderStatus

from .helpers import make_order

S = OrderStatus
STATUSES = list(S.values)
#: The flow as the issue states it, written out independently of flow.TRANSITIONS.
LEGAL = {
    ("new", "confirmed"), ("confirmed", "preparing"), ("preparing", "ready"), ("ready", "dispatched"),
    ("dispatched", "delivered"), ("delivered", "completed"), ("ready", "completed"),
    *(("%s" % s, "cancelled") for s in ("new", "confirmed", "preparing", "ready", "dispatched", "delivered")),
}
PAIRS = [(a, b) for a, b in itertools.product(STATUSES, STATUSES) if a != b]


def test_the_table_is_exactly_the_documented_flow():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL


def at_status(workspace, status: str) -> Order:
    """An order put directly in `status` (the table is what is under test)."""
    order = make_order(workspace)
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize("old, new", sorted(LEGAL))
def test_a_legal_transition_moves_records_and_publishes(workspace, old, new, django_capture_on_commit_callbacks):
    # given an order in `old`
    order = at_status(workspace, old)
    # when it moves to `new`
    with django_capture_on_commit_callbacks() as callbacks:
        changed = api.transition(order, new, actor="test", note="because")
    # then the status, its timestamp, the history and the event say so
    assert changed is True and order.status == new and getattr(order, STATUS_TIMESTAMPS[new]) is not None
    entry = order.history.get(kind="status_changed")
    assert (entry.old_status, entry.new_status, entry.actor) == (old, new, "test") and "because" in entry.message
    event = Event.objects.get(type="order.status_changed")
    assert event.data["old_status"] == old and event.data["new_status"] == new and event.data["ref"] == order.ref
    assert len(callbacks) == 1


@pytest.mark.parametrize("old, new", sorted(set(PAIRS) - LEGAL))
def test_an_illegal_transition_raises_and_changes_nothing(workspace, old, new):
    # given an order in `old`
    order = at_status(workspace, old)
    before = (order.history.count(), Event.objects.count(), order.updated_at)
    # when it is asked to move to `new`, then a typed error says why
    with pytest.raises(IllegalTransition) as caught:
        api.transition(order, new, actor="test")
    assert (caught.value.ref, caught.value.old_status, caught.value.new_status) == (order.ref, old, new)
    # and nothing changed
    order.refresh_from_db()
    assert order.status == old and (order.history.count(), Event.objects.count(), order.updated_at) == before


@pytest.mark.parametrize("status", STATUSES)
def test_moving_to_the_current_status_is_a_no_op(workspace, status):
    order = at_status(workspace, status)
    before = (order.history.count(), Event.objects.count())
    assert api.transition(order, status, actor="test") is False
    assert (order.history.count(), Event.objects.count()) == before


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError):
        api.transition(Order(), "lost", actor="test")


@pytest.mark.parametrize(
    "current, target, path",
    [
        ("dispatched", "completed", ["delivered", "completed"]),
        ("new", "dispatched", ["confirmed", "preparing", "ready", "dispatched"]),
        ("new", "completed", ["confirmed", "preparing", "ready", "completed"]),
        ("preparing", "cancelled", ["cancelled"]),
        ("completed", "cancelled", []),
        ("delivered", "ready", []),
        ("ready", "ready", []),
    ],
)
def test_path_to_is_the_shortest_legal_sequence(current, target, path):
    assert path_to(current, target) == path
    assert api.path_to(current, target) == path
