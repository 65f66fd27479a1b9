"""Order notifications: the template the operator mapped, with the order's values, once per status; opt-out and back."""
from __future__ import annotations

import pytest

from hi.integrations.api import Event
from hi.integrations.testing import setup
from hi.messaging.models import Contact, Message
from hi.orders import api as orders
from hi.orders.tests.helpers import make_order
from hi.services.whatsapp.handlers import notify_order
from hi.services.whatsapp.notifications import brl, parse_notifications

from .helpers import add_whatsapp, customer_writes, work_until

pytestmark = pytest.mark.django_db
MAPPING = "new=order_confirmed, dispatched=order_dispatched"
PHONE = "5511999990000"  # the orders helpers' customer: +55 11 99999-0000


@pytest.fixture
def notifying(workspace, wa_sim):
    """A WhatsApp integration that maps new and dispatched orders to templates."""
    return add_whatsapp(workspace, wa_sim, notifications=MAPPING)


def test_a_new_order_sends_its_customer_the_mapped_template_with_the_orders_values(
    notifying, wa_sim, workspace, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(workspace, extra={"merchant_name": "Cantina da Nonna"})
    # then
    message = Message.objects.get(order=order)
    assert (message.template_name, message.template_params) == ("order_confirmed", ["Ana", "4821", "R$ 36,90", "Cantina da Nonna"])
    assert message.contact.phone == "+5511999990000" and message.notification_key == f"order:{order.ref}:new"
    work_until(wa_sim, notifying, lambda: Message.objects.get(pk=message.pk).status == "read")


def test_an_order_never_gets_the_same_notification_twice(notifying, workspace, django_capture_on_commit_callbacks):
    # given a new order, dispatched
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(workspace)
    for status in ("confirmed", "preparing", "ready", "dispatched"):
        with django_capture_on_commit_callbacks(execute=True):
            orders.transition(order, status, actor="test")
    # when the hook sees those events again (a replayed event, another integration of the workspace)
    for event in Event.objects.filter(type__startswith="order."):
        notify_order(event, notifying)
    # then: one message per mapped status, ever
    assert sorted(Message.objects.filter(order=order).values_list("template_name", flat=True)) == ["order_confirmed", "order_dispatched"]


def test_an_opted_out_customer_gets_no_notification_and_is_told_once_and_can_opt_back_in(
    notifying, wa_sim, workspace, django_capture_on_commit_callbacks
):
    # given: the customer writes PARAR (twice)
    customer_writes(wa_sim, notifying, "PARAR", wa_id=PHONE)
    customer_writes(wa_sim, notifying, "parar", wa_id=PHONE)
    contact = Contact.objects.get(phone="+5511999990000")
    assert contact.opted_out
    confirmations = Message.objects.filter(contact=contact, direction="out")
    assert confirmations.count() == 1 and "VOLTAR" in confirmations.get().text
    work_until(wa_sim, notifying, lambda: confirmations.get().status == "read")  # the one message an opted-out customer gets
    # when an order arrives
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(workspace)
    # then nothing is sent about it
    assert not Message.objects.filter(order=order).exists()
    # when they write VOLTAR, the next order is notified again
    customer_writes(wa_sim, notifying, "VOLTAR", wa_id=PHONE)
    assert not Contact.objects.get(pk=contact.pk).opted_out
    with django_capture_on_commit_callbacks(execute=True):
        again = make_order(workspace, display_id="4822")
    assert Message.objects.filter(order=again, template_name="order_confirmed").count() == 1


def test_the_mapping_is_validated_offline(workspace, wa_sim):
    # when
    with pytest.raises(setup.SetupError) as caught:
        add_whatsapp(workspace, wa_sim, notifications="shipped=order_dispatched")
    # then
    assert "not an order status" in caught.value.field_errors["notifications"]
    assert parse_notifications("confirmed = order_confirmed : en_US\nready=order_ready")["confirmed"].language == "en_US"
    with pytest.raises(ValueError):
        parse_notifications("confirmed=Order Confirmed")


def test_money_is_written_the_brazilian_way():
    assert [brl(0), brl(5890), brl(123456), brl(-100)] == ["R$ 0,00", "R$ 58,90", "R$ 1.234,56", "-R$ 1,00"]
