"""Entities: normalised keys, sync results, and operator edits surviving syncs."""
from __future__ import annotations

import pytest

from hi.integrations.config.entities import apply_sync, rename_entity
from hi.integrations.contract.gateway import EntityData
from hi.integrations.core.keys import IntegrationKey

pytestmark = pytest.mark.django_db


def test_keys_are_normalised_and_round_trip():
    key = IntegrationKey("abc", "  SKU-001 ")
    assert key == IntegrationKey("abc", "sku-001")
    assert IntegrationKey.parse(str(key)) == key
    assert len({key, IntegrationKey("abc", "Sku-001")}) == 1
    with pytest.raises(ValueError):
        IntegrationKey.parse("no-dot")


def test_sync_reports_created_updated_removed_and_kept(demo):
    demo.entities.all().delete()
    first = apply_sync(demo, [EntityData("A", "Apple"), EntityData("B", "Banana"), EntityData("C", "Cherry")])
    assert sorted(first.created) == ["a", "b", "c"] and not first.updated
    rename_entity(demo.entities.get(external_id="b"), "Our banana")
    second = apply_sync(demo, [EntityData("a", "Apple v2"), EntityData("A", "duplicate"), EntityData("D", "Date")])
    assert second.created == ["d"]
    assert second.updated == ["a"]
    assert second.removed == ["c"]
    assert second.kept == ["b"]
    banana = demo.entities.get(external_id="b")
    assert banana.detached and banana.name == "Our banana"
    assert "1 created, 1 updated, 1 removed, 1 kept" in second.summary()


def test_an_operators_name_survives_a_sync_and_deletion_can_be_asked(demo):
    entity = demo.entities.first()
    rename_entity(entity, "Renamed")
    apply_sync(demo, [EntityData(entity.external_id, "Provider name")])
    entity.refresh_from_db()
    assert entity.name == "Renamed" and not entity.detached
    result = apply_sync(demo, [], delete_edited=True)
    assert entity.external_id in result.removed
    assert not demo.entities.exists()


def test_an_entity_returning_at_the_provider_is_reattached(demo):
    entity = demo.entities.first()
    rename_entity(entity, "Kept")
    apply_sync(demo, [])
    apply_sync(demo, [EntityData(entity.external_id, "back")])
    entity.refresh_from_db()
    assert not entity.detached


def test_kept_entities_are_listed_and_can_be_deleted(operator_client, demo, other_workspace):
    from django.urls import reverse

    from hi.integrations.config import lifecycle
    from hi.integrations.models import Entity

    rename_entity(demo.entities.first(), "Keep me")
    lifecycle.remove(demo, "test")
    assert "1 kept entity" in operator_client.get("/").content.decode()
    page = operator_client.get(reverse("kept-entities")).content.decode()
    assert "Keep me" in page
    kept = Entity.objects.get(name="Keep me")
    foreign = Entity.objects.create(workspace=other_workspace, integration_type="demo", external_id="x", name="Theirs")
    assert operator_client.post(reverse("kept-entity-delete", args=[foreign.pk])).status_code == 404
    operator_client.post(reverse("kept-entity-delete", args=[kept.pk]))
    assert list(Entity.objects.values_list("name", flat=True)) == ["Theirs"]
