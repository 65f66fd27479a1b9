"""A demo provider listing broken items: the sync keeps the readable ones, bounded, and tells the operator what it skipped."""
from __future__ import annotations

import json

import pytest

from hi.integrations.api import Entity, IntegrationLog
from hi.integrations.testing import run_sync
from hi.services.demo.listeners import ItemStream

pytestmark = pytest.mark.django_db


def test_a_sync_with_unreadable_items_keeps_the_others_bounded_and_logs_what_it_skipped(demo, sim):
    """Given items without an id, with a list as id, and one with a 5,000-character name, then the rest sync and two are reported."""
    # given
    sim.items += [
        {"name": "no id", "status": "active"},
        {"id": ["not", "text"], "name": "list id", "status": "active"},
        {"id": "SKU-LONG", "name": "N" * 5000 + "\ud800", "kind": "k" * 500, "status": "active", "x": "\x00"},
    ]
    # when
    result = run_sync(demo)
    # then
    ids = set(Entity.objects.filter(integration=demo).values_list("external_id", flat=True))
    assert ids == {"sku-001", "sku-002", "sku-003", "sku-long"} and "sku-long" in result.created + result.updated
    long = Entity.objects.get(integration=demo, external_id="sku-long")
    assert len(long.name) == 255 and len(long.kind) == 64
    line = IntegrationLog.objects.filter(integration=demo, level="warning").latest("at").message
    assert "skipped 2 items" in line and "no id" in line


def test_a_pushed_message_that_is_not_an_item_change_changes_nothing_and_a_good_one_after_it_applies(demo):
    """Given junk, absurd nesting and then a real item.updated on the live stream, then only the real one is applied."""
    stream = ItemStream(demo)
    for junk in ("[" * 100_000, json.dumps({"type": "item.updated", "item": {"name": "no id"}}), "NaN"):
        stream._dispatch(junk)
    stream._dispatch(json.dumps({"type": "item.updated", "item": {"id": "SKU-NEW", "name": "New\ud800"}}))
    assert list(Entity.objects.filter(integration=demo, external_id="sku-new").values_list("name", flat=True)) == ["New\\ud800"]
    assert stream.handle_errors == 3
