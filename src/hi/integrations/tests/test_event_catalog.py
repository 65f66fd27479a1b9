"""The event catalog: every type hi publishes is in it, and docs/events.md matches it."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.urls import reverse

from hi.integrations.management.commands.hi_event_catalog import render_markdown
from hi.integrations.outbox.events import EVENT_DESCRIPTIONS, EVENT_TYPES

SRC = Path(__file__).resolve().parents[2]
ROOT = SRC.parents[1]


def published_types() -> set[str]:
    """Event types passed as a string literal to publish(...) anywhere in hi's code (tests excluded)."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "publish" and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.add(node.args[0].value)
    return found


def test_every_published_type_is_in_the_catalog():
    published = published_types()
    assert "integration.state_changed" in published  # the scan finds hi's own publishers
    assert published <= set(EVENT_TYPES), f"missing from EVENT_TYPES: {sorted(published - set(EVENT_TYPES))}"


def test_every_catalog_entry_is_described_with_an_object_example():
    assert set(EVENT_DESCRIPTIONS) == set(EVENT_TYPES)
    for name, example in EVENT_TYPES.items():
        assert isinstance(example, dict) and example, name
        json.dumps(example)


def test_docs_events_md_is_generated_from_the_catalog():
    assert (ROOT / "docs" / "events.md").read_text() == render_markdown(), "run: manage.py hi_event_catalog > docs/events.md"


@pytest.mark.django_db
def test_the_catalog_page_lists_every_type(viewer_client):
    page = viewer_client.get(reverse("event-catalog")).content.decode()
    for name in EVENT_TYPES:
        assert f"<code>{name}</code>" in page
