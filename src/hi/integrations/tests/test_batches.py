"""Provider batches, item by item: one bad item is stored as a failed event and never blocks the others."""
from __future__ import annotations

import pytest

from hi.integrations.contract.receivers import MAX_BODY_BYTES
from hi.integrations.core.errors import ItemInvalid
from hi.integrations.engine.batches import BatchItem, parse_items, store_batch
from hi.integrations.models import InboundEvent, Integration, IntegrationState

pytestmark = pytest.mark.django_db
Status = InboundEvent.Status


def identify(item) -> BatchItem:
    """A strict little parser: an object with a string id and a kind; 'boom' items hit a bug."""
    if not isinstance(item, dict):
        raise ItemInvalid("not a JSON object")
    event_id = item.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise ItemInvalid("no id")
    if item.get("kind") == "boom":
        raise KeyError("a bug in the parser")
    if not isinstance(item.get("kind"), str):
        raise ItemInvalid("no kind", event_id=event_id)
    return BatchItem(event_id, item["kind"])


@pytest.fixture
def integration(workspace) -> Integration:
    """An active integration whose provider sends batches."""
    return Integration.objects.create(
        workspace=workspace, integration_type="demo", name="Batches", unique_id="b", state=IntegrationState.ACTIVE
    )


def rows(integration, status: str) -> list[InboundEvent]:
    """The integration's inbound rows in one status, by event id."""
    return sorted(InboundEvent.objects.filter(integration=integration, status=status), key=lambda r: r.provider_event_id)


def test_bad_items_are_stored_failed_with_their_error_and_the_good_ones_around_them_are_stored(integration):
    """Given [good, no kind, not an object, a parser bug, good with a lone surrogate in its text], then 2 accepted and 3 failed rows."""
    # given
    batch = [
        {"id": "e1", "kind": "placed"},
        {"id": "e2", "kind": 7},
        ["not", "an", "object"],
        {"id": "e3", "kind": "boom"},
        {"id": "e4", "kind": "placed", "note": "Ana\ud800\x00"},
    ]
    # when
    outcome = store_batch(integration, batch, identify, source="polling")
    # then
    assert (outcome.new, outcome.failed, outcome.duplicates) == (2, 3, 0)
    accepted = rows(integration, Status.ACCEPTED)
    assert [r.provider_event_id for r in accepted] == ["e1", "e4"]
    assert '"Ana\\ud800\\u0000"' in accepted[1].body and accepted[1].headers == {"source": "polling"}
    failed = {r.reason: r for r in rows(integration, Status.FAILED)}
    assert set(failed) == {
        "could not be read: no kind", "could not be read: not a JSON object", "could not be read: KeyError: 'a bug in the parser'"
    }
    assert failed["could not be read: no kind"].provider_event_id == "e2"
    assert failed["could not be read: not a JSON object"].body == '["not","an","object"]'
    assert all(r.processed_at is not None and r.http_status == 200 for r in failed.values())


def test_a_redelivered_batch_stores_nothing_twice_not_even_its_bad_items_without_an_id(integration):
    """Given the same batch twice (the provider redelivers until acknowledged), then every item is stored once."""
    batch = [{"id": "e1", "kind": "placed"}, {"kind": "x"}, {"id": "e2"}, {"id": "e1", "kind": "placed"}]
    first = store_batch(integration, batch, identify, source="polling")
    second = store_batch(integration, batch, identify, source="polling")
    assert (first.new, first.failed, first.duplicates) == (1, 2, 1)
    assert (second.new, second.failed, second.duplicates) == (0, 0, 4)
    assert InboundEvent.objects.filter(integration=integration).count() == 3


def test_an_item_whose_id_is_not_valid_text_is_failed_with_its_id_shown_escaped(integration):
    """Given an id with a lone surrogate, then the item is failed (its identity cannot be stored as given)."""
    outcome = store_batch(integration, [{"id": "e\ud800", "kind": "placed"}], identify, source="polling")
    assert outcome.failed == 1
    row = InboundEvent.objects.get(integration=integration)
    assert row.status == Status.FAILED and "id is not valid text" in row.reason
    assert row.provider_event_id.startswith("invalid:") and "e\\ud800" in row.body


def test_an_item_larger_than_a_webhook_body_may_be_is_failed_and_stored_cut(integration):
    """Given one item of more than MAX_BODY_BYTES, then it is failed and its stored body is cut to the limit."""
    outcome = store_batch(integration, [{"id": "big", "kind": "placed", "x": "a" * MAX_BODY_BYTES}], identify, source="polling")
    assert outcome.failed == 1
    row = InboundEvent.objects.get(integration=integration)
    assert "larger than" in row.reason and len(row.body) == MAX_BODY_BYTES and row.body_size > MAX_BODY_BYTES


def test_parse_items_returns_the_good_items_and_the_failures_in_order():
    """Given a batch for a non-event use (an entity sync), then parsed items and failures come back separately."""
    parsed, failures = parse_items([{"id": "a", "kind": "k"}, 3, {"id": "b", "kind": "boom"}], identify)
    assert [item.event_id for _, item in parsed] == ["a"]
    assert [(f.index, f.reason) for f in failures] == [(1, "not a JSON object"), (2, "KeyError: 'a bug in the parser'")]


def test_an_item_nested_past_the_limit_is_failed_alone(integration):
    """Given one item nested 40 levels deep beside a good one, then only the deep one is failed (the envelope is not refused)."""
    from hi.integrations.core.provider_data import MAX_DEPTH, loads

    deep: dict = {"id": "deep", "kind": "placed"}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    batch = loads(__import__("json").dumps([deep, {"id": "e1", "kind": "placed"}]), max_depth=None)
    outcome = store_batch(integration, batch, identify, source="polling")
    assert (outcome.new, outcome.failed) == (1, 1)
    assert f"nested deeper than {MAX_DEPTH} levels" in rows(integration, Status.FAILED)[0].reason


def test_items_applied_at_once_are_stored_processed_and_one_that_fails_is_stored_failed_without_undoing_the_others(integration):
    """Given apply= (a webhook's items, already in the worker), each new item is applied in its own savepoint."""
    # given
    applied: list = []

    def apply(kind, item):
        """Apply one item, failing on e2."""
        if item["id"] == "e2":
            raise RuntimeError("could not apply e2")
        applied.append((kind, item["id"], item.get("note")))

    batch = [
        {"id": "e1", "kind": "placed", "note": "Ana\ud800"}, {"id": "e2", "kind": "placed"}, {"id": "e3", "kind": "placed"},
        {"id": "e1", "kind": "placed"}
    ]
    # when: the batch arrives, and again
    outcome = store_batch(integration, batch, identify, source="webhook", apply=apply)
    again = store_batch(integration, batch, identify, source="webhook", apply=apply)
    # then: applied once each, the text made safe; the failing one kept with its error; repeats skipped
    assert applied == [("placed", "e1", "Ana\\ud800"), ("placed", "e3", None)]
    assert [r.provider_event_id for r in rows(integration, Status.PROCESSED)] == ["e1", "e3"]
    failed = rows(integration, Status.FAILED)
    assert [r.provider_event_id for r in failed] == ["e2"] and "could not apply e2" in failed[0].reason
    assert (outcome.new, outcome.failed, outcome.duplicates) == (2, 1, 1) and again.new == again.failed == 0
    assert not rows(integration, Status.ACCEPTED)


def test_the_new_items_of_a_batch_are_inserted_in_one_statement_and_the_known_ones_skipped(integration):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given: one item stored before
    store_batch(integration, [{"id": "k1", "kind": "placed"}], identify, source="webhook", apply=lambda kind, item: None)
    batch = [{"id": f"k{n}", "kind": "placed"} for n in range(1, 6)] + [{"id": "k5", "kind": "placed"}]
    # when
    with CaptureQueriesContext(connection) as queries:
        outcome = store_batch(integration, batch, identify, source="webhook", apply=lambda kind, item: None)
    # then: the four new items in one INSERT, the stored one and the repeat counted as duplicates
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "integrations_inboundevent"')]
    assert len(inserts) == 1 and (outcome.new, outcome.duplicates) == (4, 2)
    assert [r.provider_event_id for r in rows(integration, Status.PROCESSED)] == ["k1", "k2", "k3", "k4", "k5"]


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_stored_by_several_processes_at_once_is_stored_and_applied_once(integration):
    """On PostgreSQL the passes overlap: one's insert meets the others' rows, and it falls back to one row at a time."""
    import threading
    import time

    from hi.integrations.testing.concurrency import at_once

    applied: list = []
    lock = threading.Lock()

    def apply(kind, item):
        """Record the item, holding the transaction open a moment."""
        with lock:
            applied.append(item["id"])
        time.sleep(0.02)  # holds the transaction open, so the other passes insert meanwhile (not a timing assertion)

    batch = [{"id": f"c{n}", "kind": "placed"} for n in range(5)]
    outcomes = at_once(3, lambda: store_batch(integration, batch, identify, source="webhook", apply=apply))
    assert len(outcomes) == 3  # no pass raised
    assert sum(o.new for o in outcomes) == 5 and sum(o.duplicates for o in outcomes) == 10
    assert sorted(applied) == [f"c{n}" for n in range(5)]
    assert [r.provider_event_id for r in rows(integration, Status.PROCESSED)] == [f"c{n}" for n in range(5)]
