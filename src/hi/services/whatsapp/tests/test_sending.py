"""Sending through the Cloud API: paced, classified by Meta's codes, and never twice without the operator."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hi.integrations.api import Directive, DirectiveStatus, IntegrationState
from hi.integrations.testing import directive_actions, setup
from hi.messaging import api
from hi.messaging.channels import MessageRefused, TemplateSend
from hi.messaging.models import Message
from hi.services.whatsapp.handlers import TOPIC_SEND

from .helpers import CUSTOMER, TOKEN, customer_writes, run_directives, work, work_until

pytestmark = pytest.mark.django_db
ORDER_CONFIRMED = TemplateSend("order_confirmed", "pt_BR", ("Ana", "4821", "R$ 58,90", "Cantina da Nonna"))


def directive_of(message: Message) -> Directive:
    """The send directive of a message."""
    return Directive.objects.get(topic=TOPIC_SEND, payload__message=message.pk)


def sends_to(sim, wa_id: str = CUSTOMER) -> list[dict]:
    """What the simulator accepted for one customer."""
    return [s for s in sim.sent if s["wa_id"] == wa_id]


def test_a_template_goes_out_with_its_parameters_and_ends_read(whatsapp, wa_sim):
    # when
    message = api.queue_outbound(whatsapp, "+55 11 98765-4321", template=ORDER_CONFIRMED, actor="test")
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=message.pk).status == "read")
    # then
    message.refresh_from_db()
    assert message.provider_message_id.startswith("wamid.") and message.sent_at and message.delivered_at and message.read_at
    body = sends_to(wa_sim)[0]["body"]
    assert body["to"] == CUSTOMER and body["template"]["name"] == "order_confirmed"
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == list(ORDER_CONFIRMED.params)
    assert "Ana" in message.text and "R$ 58,90" in message.text  # the synced body, filled in


def test_a_free_form_text_is_refused_outside_the_window_and_sent_within_it(whatsapp, wa_sim):
    # given a customer who never wrote
    with pytest.raises(MessageRefused, match="24 hours"):
        api.queue_outbound(whatsapp, CUSTOMER, text="Oi!", actor="test")
    assert not Message.objects.exists()
    # when they write, a reply goes out
    customer_writes(wa_sim, whatsapp, "Oi, tudo bem?")
    reply = api.queue_outbound(whatsapp, CUSTOMER, text="Tudo! Em que posso ajudar?", actor="test")
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=reply.pk).status == "read")
    assert sends_to(wa_sim)[0]["body"]["text"]["body"] == "Tudo! Em que posso ajudar?"


def test_two_messages_to_one_customer_leave_at_least_six_seconds_apart(whatsapp):
    # when
    first = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    second = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    other = api.queue_outbound(whatsapp, "5511900000002", template=ORDER_CONFIRMED, actor="test")
    # then
    gap = directive_of(second).next_run_at - directive_of(first).next_run_at
    assert gap >= timedelta(seconds=6)
    assert directive_of(other).next_run_at - directive_of(first).next_run_at < timedelta(seconds=1)


@pytest.mark.parametrize("status", [400, 401])
def test_an_expired_token_while_sending_needs_re_authentication_and_loses_nothing(whatsapp, wa_sim, status):
    # given: the token expires, answered with 190 over HTTP `status`
    message = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    wa_sim.token_expired, wa_sim.auth_error_status = True, status
    # when
    run_directives()
    # then: re-authentication needed; the message waits, queued
    whatsapp.refresh_from_db()
    message.refresh_from_db()
    assert whatsapp.state == IntegrationState.AUTH_FAILED
    assert message.status == "queued" and directive_of(message).status == DirectiveStatus.QUEUED
    assert sends_to(wa_sim) == []
    # when the operator re-authenticates with a working token
    wa_sim.token_expired = False
    setup.reauthenticate(whatsapp, {"phone_number_id": wa_sim.phone_number_id, "access_token": TOKEN}, actor="test")
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=message.pk).status == "read")
    # then it went out, once
    assert len(sends_to(wa_sim)) == 1


@pytest.mark.parametrize("knob", ["throughput_limited", "server_error"])
def test_rate_limits_and_server_errors_are_retried_and_the_post_is_never_repeated_inside_a_call(whatsapp, wa_sim, knob):
    # given
    setattr(wa_sim, knob, 1)
    message = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    # when: the first attempt is refused
    run_directives(time_travel=False)
    # then: one POST, the directive will try again later, the message is still queued
    assert len(wa_sim.requests_to(f"/v23.0/{wa_sim.phone_number_id}/messages")) == 1
    directive = directive_of(message)
    message.refresh_from_db()
    assert (directive.status, message.status) == (DirectiveStatus.QUEUED, "queued") and directive.attempts == 1
    # and then it is sent
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=message.pk).status == "read")
    assert len(sends_to(wa_sim)) == 1


def test_the_pair_rate_limit_waits_at_least_six_seconds(whatsapp, wa_sim):
    # given: the customer was just written to
    wa_sim.pair_rate_limit_s = 60
    first = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    run_directives()
    second = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    Directive.objects.filter(pk=directive_of(second).pk).update(next_run_at=timezone.now())  # as if hi's own pacing were off
    # when
    run_directives(time_travel=False)
    # then
    directive = directive_of(second)
    assert Message.objects.get(pk=first.pk).status != "queued"
    assert directive.status == DirectiveStatus.QUEUED and "131056" in directive.last_error
    assert directive.next_run_at - directive.updated_at >= timedelta(seconds=6 * 0.8)


def test_a_permanent_refusal_fails_the_message_with_metas_code_and_reason(whatsapp, wa_sim):
    # when: a template WhatsApp does not have
    message = api.queue_outbound(whatsapp, CUSTOMER, template=TemplateSend("no_such_template", "pt_BR"), actor="test")
    run_directives()
    # then
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "132001")
    assert "template" in message.error_title.lower() and directive_of(message).status == DirectiveStatus.FAILED


def test_an_undeliverable_number_fails_later_through_its_status(whatsapp, wa_sim):
    # given
    wa_sim.undeliverable_numbers = [CUSTOMER]
    message = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    # when
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=message.pk).status == "failed")
    # then
    message.refresh_from_db()
    assert message.error_code == "131026" and message.failed_at and directive_of(message).status == DirectiveStatus.DONE


def test_a_send_whose_answer_is_lost_becomes_uncertain_and_is_never_repeated_without_the_operator(whatsapp, wa_sim, settings):
    # given: WhatsApp accepts the next send but its answer never comes back in time
    settings.HI_HTTP_DEADLINE_S = 1
    wa_sim.accept_then_timeout = 1
    message = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    # when
    run_directives()
    # then: not confirmed; the directive failed for good, with that reason
    message.refresh_from_db()
    directive = directive_of(message)
    assert message.status == "uncertain" and message.awaits_operator
    assert directive.status == DirectiveStatus.FAILED and "not sent again" in directive.last_error.lower()
    # and nothing sends it again: more work, and even an operator's Retry now of the directive
    directive_actions.retry_now(directive)
    work(wa_sim, whatsapp, rounds=3)
    assert len(sends_to(wa_sim)) == 1
    message.refresh_from_db()
    assert message.status == "uncertain"


def test_the_operator_retries_an_uncertain_send_as_a_new_message_or_marks_it_sent(whatsapp, wa_sim, settings):
    # given two uncertain sends
    settings.HI_HTTP_DEADLINE_S = 1
    wa_sim.accept_then_timeout = 2
    first = api.queue_outbound(whatsapp, CUSTOMER, template=ORDER_CONFIRMED, actor="test")
    second = api.queue_outbound(whatsapp, "5511900000002", template=ORDER_CONFIRMED, actor="test")
    run_directives()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("uncertain", "uncertain")
    settings.HI_HTTP_DEADLINE_S = 30
    # when the operator retries one and marks the other as sent
    again = api.retry(first, actor="olivia")
    api.confirm_sent(second, actor="olivia")
    work_until(wa_sim, whatsapp, lambda: Message.objects.get(pk=again.pk).status == "read")
    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.replaced_by_id == again.pk and not first.awaits_operator and len(sends_to(wa_sim)) == 2
    assert second.status == "sent" and "olivia" in second.error_details
    with pytest.raises(MessageRefused):
        api.retry(first, actor="olivia")
