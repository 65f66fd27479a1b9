"""A worker killed mid-send or mid-pass loses nothing and does nothing twice (a send, a status, an event)."""
from __future__ import annotations

import signal

import pytest

from hi.integrations.api import LIVE_STATUSES, Directive, DirectiveStatus, Event, InboundEvent
from hi.integrations.testing import processes
from hi.integrations.testing.waiting import wait_for
from hi.messaging import api
from hi.messaging.channels import TemplateSend
from hi.messaging.models import Message
from hi.services.whatsapp.handlers import TOPIC_SEND

from .helpers import add_whatsapp, deliver, run_directives

# Worker subprocesses only see committed rows: the test database must really commit.
pytestmark = pytest.mark.django_db(transaction=True)
CUSTOMERS = ["5511900000001", "5511900000002", "5511900000003"]


def test_a_worker_killed_while_waiting_for_metas_answer_loses_no_message_and_never_sends_one_twice(workspace, wa_sim):
    # given: three notifications queued, and WhatsApp accepting the first but holding its answer back
    integration = add_whatsapp(workspace, wa_sim)
    template = TemplateSend("order_ready", "pt_BR", ("Ana", "4821", "R$ 10,00", "Cantina"))
    queued = [api.queue_outbound(integration, to, template=template, actor="test") for to in CUSTOMERS]
    wa_sim.accept_then_timeout, wa_sim.accept_then_timeout_s = 1, 60
    with processes.worker_pool() as start:
        # when: the worker is killed while it waits for the first answer
        first = start()
        assert wait_for(lambda: len(wa_sim.sent) >= 1, 30), "the first worker never sent anything"
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        assert Directive.objects.filter(topic=TOPIC_SEND, status=DirectiveStatus.RUNNING).count() == 1
        # and another worker takes over once the first one's heartbeat is stale
        start()
        settled = lambda: all(Message.objects.get(pk=m.pk).status in ("sent", "delivered", "read", "uncertain") for m in queued)  # noqa: E731
        assert wait_for(settled, 60), list(Message.objects.values_list("status", flat=True))
        # (the message is marked uncertain inside the directive's run, and the directive's own row a moment later)
        interrupted = lambda: Directive.objects.get(topic=TOPIC_SEND, payload__message=queued[0].pk)  # noqa: E731
        assert wait_for(lambda: interrupted().status not in LIVE_STATUSES, 30), interrupted().status
    # then: the interrupted one is uncertain (the operator decides), the others went out; each was posted once
    statuses = {m.contact.phone: m.status for m in Message.objects.select_related("contact")}
    assert statuses.pop("+" + CUSTOMERS[0]) == "uncertain"
    assert set(statuses.values()) <= {"sent", "delivered", "read"}
    assert sorted(s["wa_id"] for s in wa_sim.sent) == CUSTOMERS
    assert interrupted().status == DirectiveStatus.FAILED and "worker stopped" in interrupted().last_error.lower()


def test_a_worker_killed_mid_pass_over_status_notifications_loses_none_and_applies_each_once(workspace, wa_sim):
    # given: a hundred messages sent, their statuses stored as accepted notifications (several passes' worth)
    integration = add_whatsapp(workspace, wa_sim)
    template = TemplateSend("order_ready", "pt_BR", ("Ana", "4821", "R$ 10,00", "Cantina"))
    queued = [api.queue_outbound(integration, f"55119000011{n:02d}", template=template, actor="test") for n in range(100)]
    run_directives()
    assert set(deliver(wa_sim, integration)) == {200}
    stored = InboundEvent.objects.filter(integration=integration, event_type="notification")
    total = stored.count()
    assert total >= 200
    with processes.worker_pool() as start:
        # when: a worker is killed once it has begun processing them
        first = start()
        assert wait_for(lambda: InboundEvent.objects.filter(integration=integration, event_type="status").exists(), 30, 0.01)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        assert stored.filter(status=InboundEvent.Status.ACCEPTED).exists()  # it died with notifications left
        # and another worker takes over
        start()
        assert wait_for(lambda: not stored.filter(status=InboundEvent.Status.ACCEPTED).exists(), 60)
        # (events the killed worker committed but never dispatched are the sweep's, 10 s later)
        assert wait_for(lambda: not Event.objects.filter(type="message.status_changed", dispatched_at__isnull=True).exists(), 60)
    # then: every notification processed, every message read, each (message, status) stored once and each change published once
    assert stored.filter(status=InboundEvent.Status.PROCESSED).count() == total
    assert {Message.objects.get(pk=m.pk).status for m in queued} == {"read"}
    items = list(InboundEvent.objects.filter(integration=integration, event_type="status").values_list("provider_event_id", flat=True))
    assert len(items) == len(set(items)) == total
    changes = list(Event.objects.filter(type="message.status_changed").values_list("data__id", "data__new_status"))
    assert len(changes) == len(set(changes)) and {status for _, status in changes} >= {"read"}
