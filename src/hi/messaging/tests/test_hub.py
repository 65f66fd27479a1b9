"""The messaging hub on its own: numbers in E.164, statuses only forward, the window, inbound dedupe, opt-out."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hi.integrations.api import Event, Integration, IntegrationState
from hi.messaging import api
from hi.messaging.channels import MessageRefused
from hi.messaging.models import Contact, Direction, Message
from hi.messaging.phones import InvalidPhone, e164

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(workspace) -> Integration:
    """An integration row of a type that is no message channel (the hub's own logic needs no channel to store and move messages)."""
    return Integration.objects.create(workspace=workspace, integration_type="demo", name="D", unique_id="d", state=IntegrationState.ACTIVE)


def outgoing(channel, status: str = "queued", provider_id: str = "wamid.1") -> Message:
    """An outgoing message as a channel leaves it."""
    contact = api.contact_for(channel.workspace_id, "+55 11 98765-4321")
    return Message.objects.create(workspace_id=channel.workspace_id, integration=channel, contact=contact, direction=Direction.OUT,
                                  status=status, provider_message_id=provider_id, kind="text", text="Oi")


@pytest.mark.parametrize("raw,expected", [
    ("+55 11 98765-4321", "+5511987654321"), ("(11) 98765-4321", "+5511987654321"), ("11987654321", "+5511987654321"),
    ("5511987654321", "+5511987654321"), ("+1 650 555 1234", "+16505551234"), ("16505551234", "+5516505551234"),
])
def test_numbers_are_kept_in_e164_with_brazil_when_no_country_code_is_given(raw, expected):
    assert e164(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "12", "+0 11 1234"])
def test_what_is_not_a_number_is_refused(raw):
    with pytest.raises(InvalidPhone):
        e164(raw)


def test_statuses_only_move_forward_and_each_change_is_published_once(channel):
    # given
    message = outgoing(channel)
    # when: read, then a late delivered and a repeated read, then sent
    moves = [api.advance(message, s) for s in ("sent", "read", "delivered", "read", "sent")]
    # then
    message.refresh_from_db()
    assert moves == [True, True, False, False, False] and message.status == "read"
    assert message.delivered_at is not None  # read implies delivered
    changes = list(Event.objects.filter(type="message.status_changed").order_by("created_at").values_list("data__new_status", flat=True))
    assert sorted(changes) == ["read", "sent"]


def test_failed_follows_sent_but_not_read(channel):
    # given
    sent, read = outgoing(channel, "sent", "wamid.a"), outgoing(channel, "read", "wamid.b")
    # when
    api.apply_status(channel, "wamid.a", "failed", code=131047, title="Re-engagement message", details="More than 24 hours")
    api.apply_status(channel, "wamid.b", "failed", code=131047)
    # then
    sent.refresh_from_db()
    read.refresh_from_db()
    assert (sent.status, sent.error_code, sent.error_title) == ("failed", "131047", "Re-engagement message")
    assert read.status == "read" and Event.objects.filter(type="message.failed").count() == 1


def test_a_received_message_is_stored_once_opens_the_window_and_is_published(channel):
    # given
    contact = api.contact_for(channel.workspace_id, "5511987654321")
    assert not api.window_open(contact)
    # when
    first = api.record_inbound(channel, wa_id="5511987654321", provider_message_id="wamid.in1", kind="text", text="Oi", profile_name="Ana")
    again = api.record_inbound(channel, wa_id="5511987654321", provider_message_id="wamid.in1", kind="text", text="Oi")
    # then
    contact.refresh_from_db()
    assert (first[1], again[1], first[0].pk) == (True, False, again[0].pk)
    assert contact.profile_name == "Ana" and api.window_open(contact)
    assert not api.window_open(contact, now=timezone.now() + timedelta(hours=24, seconds=1))
    assert Event.objects.filter(type="message.received").count() == 1


def test_opt_out_and_in_change_the_contact_once(channel):
    # given
    contact = api.contact_for(channel.workspace_id, "5511987654321")
    # when / then
    assert api.mark_opted_out(contact, actor="customer") and not api.mark_opted_out(contact, actor="customer")
    assert Contact.objects.get(pk=contact.pk).opted_out
    assert api.mark_opted_in(contact, actor="customer") and not Contact.objects.get(pk=contact.pk).opted_out


def test_an_integration_that_is_not_a_channel_cannot_send(channel):
    with pytest.raises(MessageRefused, match="cannot send"):
        api.queue_outbound(channel, "5511987654321", text="Oi", actor="test")
    assert not Message.objects.exists()
