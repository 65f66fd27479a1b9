"""Events: published after the commit only, dispatched once, swept up if a process died."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from hi.integrations.config import setup
from hi.integrations.models import Directive, Event
from hi.integrations.outbox import events
from hi.services.demo.handlers import TOPIC_NOTE

pytestmark = pytest.mark.django_db


@pytest.fixture
def forwarding(demo, sim):
    """The demo integration forwarding events as notes."""
    return setup.reconfigure(demo, {"forward_events": "true"}, actor="test")


def test_nothing_is_published_when_the_transaction_rolls_back(forwarding, django_capture_on_commit_callbacks):
    before = Directive.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                events.publish("order.created", {"ref": "A1"}, forwarding.workspace)
                raise RuntimeError("rolled back")
    assert callbacks == [] and not Event.objects.filter(type="order.created").exists()
    assert Directive.objects.count() == before


def test_a_committed_event_runs_the_hooks_once(forwarding, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish("order.created", {"ref": "A1"}, forwarding.workspace)
    directive = Directive.objects.get(topic=TOPIC_NOTE, payload__event=str(event.pk))
    assert "order.created" in directive.payload["text"]
    assert events.dispatch(event.pk) == 0  # already dispatched
    assert Directive.objects.filter(payload__event=str(event.pk)).count() == 1


def test_the_sweep_dispatches_events_a_crashed_process_left(forwarding):
    event = Event.objects.create(workspace=forwarding.workspace, type="order.created", data={"ref": "B2"})
    Event.objects.filter(pk=event.pk).update(created_at=event.created_at - timedelta(minutes=1))
    assert events.dispatch_pending() == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None and Directive.objects.filter(payload__event=str(event.pk)).exists()


def test_state_changes_are_events(demo, django_capture_on_commit_callbacks):
    from hi.integrations.config import lifecycle

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.pause(demo, "test")
    event = Event.objects.filter(type="integration.state_changed").latest("created_at")
    assert event.data["from"] == "active" and event.data["to"] == "paused" and event.data["integration"] == str(demo.pk)
    assert set(event.data) == set(events.EVENT_TYPES["integration.state_changed"])


def test_hooks_of_integrations_that_do_not_forward_queue_nothing(demo, django_capture_on_commit_callbacks):
    before = Directive.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("order.created", {}, demo.workspace)
    assert Directive.objects.count() == before


def test_event_emit_publishes_like_hi_does(forwarding, workspace, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
            call_command("event", "emit", "order.created", "--data", json.dumps({"ref": "C3"}), "--workspace", workspace.slug, stdout=out)
    assert "hooks queued 1 directive(s)" in out.getvalue()
    assert any('"ref": "C3"' in d.payload["text"] for d in Directive.objects.all())


@pytest.mark.parametrize(
    "args,message",
    [
        (["Not An Event"], "is not an event type"),
        (["order.created", "--data", "{oops"], "--data is not JSON"),
        (["order.created", "--data", "[1]"], "must be a JSON object"),
        (["order.created", "--workspace", "nope"], "No workspace nope"),
        (["order.created", "--integration", "not-a-uuid"], "No integration"),
    ],
)
def test_event_emit_refuses_bad_input(workspace, args, message):
    full = list(args) if "--workspace" in args else [*args, "--workspace", workspace.slug]
    with pytest.raises(CommandError, match=message):
        call_command("event", "emit", *full)
    assert not Event.objects.exists()
