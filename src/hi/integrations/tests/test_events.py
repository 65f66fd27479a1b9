"""Events: published after the commit only, dispatched once, swept up if a process died."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

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


def _statements(queries, prefix: str) -> int:
    """How many captured statements start with `prefix` and touch the events table."""
    return sum(1 for q in queries if q["sql"].startswith(prefix) and '"integrations_event"' in q["sql"].split(" WHERE ")[0])


def test_the_events_of_one_transaction_are_dispatched_together_each_once(forwarding, django_capture_on_commit_callbacks):
    # given: one transaction publishing five events together (as a worker's pass over fifty notifications does)
    before = set(Directive.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic(), events.dispatch_together():
                published = [events.publish("order.created", {"ref": f"D{n}"}, forwarding.workspace) for n in range(5)]
    # then: each ran the hooks once, in the order published
    notes = Directive.objects.filter(topic=TOPIC_NOTE).exclude(pk__in=before).order_by("created_at", "id")
    assert [d.payload["event"] for d in notes] == [str(e.pk) for e in published]
    assert not Event.objects.filter(pk__in=[e.pk for e in published], dispatched_at__isnull=True).exists()
    # and they were read and marked dispatched together: one statement each, not one per event
    dispatching = [q for q in queries if not q["sql"].startswith("INSERT")]
    assert (_statements(dispatching, "SELECT"), _statements(dispatching, "UPDATE")) == (1, 1)
    assert events.dispatch(published[0].pk) == 0  # already dispatched


def test_a_failing_hook_undoes_only_its_own_work_and_the_other_events_of_the_batch_are_dispatched(
    forwarding, workspace, sim, django_capture_on_commit_callbacks, caplog
):
    # given: a second integration whose hook fails on every event (its secret cannot be decrypted any more)
    from cryptography.fernet import Fernet

    from hi.conftest import demo_attributes
    from hi.integrations.models import Integration
    from hi.integrations.types import IntegrationType

    attributes = demo_attributes(sim, key="demo-key-2", forward_events="true")
    broken = setup.add_integration(workspace, IntegrationType.DEMO, "Broken", attributes, actor="test")
    broken.attributes.filter(key="api_key").update(value=Fernet(Fernet.generate_key()).encrypt(b"x").decode())
    Integration.objects.filter(pk=broken.pk).update(updated_at=broken.updated_at + timedelta(seconds=1))  # a fresh process: nothing cached
    before = set(Directive.objects.values_list("pk", flat=True))
    # when: one transaction publishes three events together
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic(), events.dispatch_together():
            published = [events.publish("order.created", {"ref": f"F{n}"}, workspace) for n in range(3)]
    # then: the working hook ran for every event, the broken one left nothing, and every event is dispatched
    notes = Directive.objects.filter(topic=TOPIC_NOTE).exclude(pk__in=before)
    assert sorted(d.payload["event"] for d in notes) == sorted(str(e.pk) for e in published)
    assert {d.integration_id for d in notes} == {forwarding.pk}
    assert not Event.objects.filter(pk__in=[e.pk for e in published], dispatched_at__isnull=True).exists()
    assert sum("failed on event" in r.getMessage() for r in caplog.records) == 3


def test_events_of_a_rolled_back_savepoint_in_a_batch_are_not_dispatched_and_the_others_are(forwarding, django_capture_on_commit_callbacks):
    # given: a batch whose second event's savepoint rolls back (one item of a worker's pass failing)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic(), events.dispatch_together():
            kept = events.publish("order.created", {"ref": "K1"}, forwarding.workspace)
            with pytest.raises(RuntimeError), transaction.atomic():
                lost = events.publish("order.created", {"ref": "L1"}, forwarding.workspace)
                raise RuntimeError("this item failed")
            later = events.publish("order.created", {"ref": "K2"}, forwarding.workspace)
    # then: the two kept events ran the hooks, the rolled-back one neither exists nor ran anything
    forwarded = set(Directive.objects.filter(topic=TOPIC_NOTE).values_list("payload__event", flat=True))
    assert {str(kept.pk), str(later.pk)} <= forwarded and str(lost.pk) not in forwarded
    assert not Event.objects.filter(pk=lost.pk).exists()
    assert not Event.objects.filter(pk__in=[kept.pk, later.pk], dispatched_at__isnull=True).exists()


def test_a_batch_whose_transaction_rolls_back_dispatches_nothing(forwarding, django_capture_on_commit_callbacks):
    before = Directive.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic(), events.dispatch_together():
                events.publish("order.created", {"ref": "R1"}, forwarding.workspace)
                raise RuntimeError("rolled back")
    assert callbacks == [] and Directive.objects.count() == before and not Event.objects.filter(type="order.created").exists()


def test_a_workspace_whose_hooks_cannot_be_read_keeps_its_events_for_the_retry_and_the_others_are_dispatched(
    forwarding, other_workspace, django_capture_on_commit_callbacks, caplog
):
    # given: another workspace with an integration whose type no longer exists (its service was removed)
    from hi.integrations.models import Integration, IntegrationState

    Integration.objects.create(
        workspace=other_workspace, integration_type="gone", name="Gone", unique_id="gone", state=IntegrationState.ACTIVE
    )
    # when: one transaction publishes an event in each workspace
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic(), events.dispatch_together():
            stuck = events.publish("order.created", {"ref": "G1"}, other_workspace)
            fine = events.publish("order.created", {"ref": "G2"}, forwarding.workspace)
    # then: the working workspace's event ran its hooks and is dispatched; the other waits for the sweep
    assert str(fine.pk) in set(Directive.objects.filter(topic=TOPIC_NOTE).values_list("payload__event", flat=True))
    assert Event.objects.get(pk=fine.pk).dispatched_at is not None
    assert Event.objects.get(pk=stuck.pk).dispatched_at is None
    assert "event hooks of workspace" in caplog.text
