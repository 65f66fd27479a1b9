"""Statuses in any order, duplicated or batched, end in the right state; the pane and the events follow."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hi.integrations.api import Event, InboundEvent
from hi.integrations.testing import process_pending
from hi.messaging import api
from hi.messaging.channels import TemplateSend
from hi.messaging.models import Message

from .helpers import CUSTOMER, deliver, run_directives, work_until

pytestmark = pytest.mark.django_db
TEMPLATE = TemplateSend("order_confirmed", "pt_BR", ("Ana", "4821", "R$ 58,90", "Cantina da Nonna"))


@pytest.mark.parametrize("knobs", [
    {"duplicate_notifications": True},
    {"out_of_order_notifications": True},
    {"out_of_order_notifications": True, "duplicate_notifications": True, "batch_notifications": 10},
    {"skip_delivered": True},
])
def test_duplicated_and_out_of_order_statuses_end_read_with_each_change_published_once(whatsapp, wa_sim, knobs):
    # given
    for name, value in knobs.items():
        setattr(wa_sim, name, value)
    messages = [api.queue_outbound(whatsapp, f"55119876500{n:02d}", template=TEMPLATE, actor="test") for n in range(3)]
    # when
    work_until(wa_sim, whatsapp, lambda: wa_sim.notifier.pending() == 0 and all(
        Message.objects.get(pk=m.pk).status == "read" for m in messages))
    # then: every message ends read, with its timestamps; a late `delivered` changed nothing
    for message in messages:
        message.refresh_from_db()
        assert message.status == "read" and message.sent_at and message.delivered_at and message.read_at
        changes = [e.data["new_status"] for e in Event.objects.filter(type="message.status_changed", data__id=message.pk)]
        assert changes.count("read") == 1 and len(changes) == len(set(changes))


def test_notifications_processed_together_read_their_messages_in_one_query_and_apply_each_status_once(whatsapp, wa_sim):
    # given: three messages sent, and their statuses stored as separate notifications, out of order
    wa_sim.out_of_order_notifications = True
    messages = [api.queue_outbound(whatsapp, f"55119876511{n:02d}", template=TEMPLATE, actor="test") for n in range(3)]
    run_directives()
    assert set(deliver(wa_sim, whatsapp)) == {200}
    accepted = InboundEvent.objects.filter(integration=whatsapp, event_type="notification", status=InboundEvent.Status.ACCEPTED)
    notifications = accepted.count()
    assert notifications >= 6
    # when: one worker's pass processes them together
    with CaptureQueriesContext(connection) as queries:
        assert process_pending() == notifications
    # then: the messages were read once for all the statuses, not once per status
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and 'FROM "messaging_message"' in q["sql"]]
    assert len(reads) == 1
    # and each message ends read, each (message, status) stored once and each real change published once
    for message in messages:
        message.refresh_from_db()
        assert message.status == "read"
        changes = [e.data["new_status"] for e in Event.objects.filter(type="message.status_changed", data__id=message.pk)]
        assert "read" in changes and len(changes) == len(set(changes))
    items = list(InboundEvent.objects.filter(integration=whatsapp, event_type="status").values_list("provider_event_id", flat=True))
    assert len(items) == len(set(items)) == notifications


def test_a_status_whose_message_the_batch_did_not_find_is_read_afresh_and_a_failed_move_is_forgotten(whatsapp, wa_sim):
    # given: a sent message, and a batch's lookup made before it was known
    message = api.queue_outbound(whatsapp, CUSTOMER, template=TEMPLATE, actor="test")
    run_directives()
    wamid = Message.objects.get(pk=message.pk).provider_message_id
    known: dict = {}
    # when: its status is applied with that lookup
    found = api.apply_status(whatsapp, wamid, "delivered", known=known)
    # then: it was read now and moved forward
    assert found is not None and Message.objects.get(pk=message.pk).status == "delivered"
    # and a move that fails leaves the looked-up message out of the lookup, so the next status reads it afresh
    known = api.find_for_statuses(whatsapp, [wamid])
    with pytest.raises(ValueError):
        api.apply_status(whatsapp, wamid, "no-such-status", known=known)
    assert known == {}


def test_a_status_for_a_message_hi_does_not_know_changes_nothing(whatsapp):
    # when
    found = api.apply_status(whatsapp, "wamid.unknown", "delivered")
    # then
    assert found is None and not Event.objects.filter(type="message.status_changed").exists()


def test_failed_follows_sent_and_publishes_message_failed(whatsapp, wa_sim):
    # given: a number that is not on WhatsApp
    wa_sim.undeliverable_numbers = [CUSTOMER]
    message = api.queue_outbound(whatsapp, CUSTOMER, template=TEMPLATE, actor="test")
    # when
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=message.pk).status == "failed")
    # then
    failed = Event.objects.get(type="message.failed")
    assert failed.data["error_code"] == "131026" and failed.data["old_status"] == "sent" and failed.data["order"] is None
    # and a late `delivered` after `failed` still wins (another device got it)
    api.apply_status(whatsapp, Message.objects.get(pk=message.pk).provider_message_id, "delivered")
    assert Message.objects.get(pk=message.pk).status == "delivered"
    # while `sent` after it changes nothing
    api.apply_status(whatsapp, Message.objects.get(pk=message.pk).provider_message_id, "sent")
    assert Message.objects.get(pk=message.pk).status == "delivered"
