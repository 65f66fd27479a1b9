"""The console and the CLI with iFood orders: iFood's actions on the order page, reasons from iFood, and the pane."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from hi.integrations.api import Directive, receive_path
from hi.orders.models import Order
from hi.services.ifood.handlers import TOPIC_ACTION
from hi.services.ifood.jobs import record_status

from .helpers import MERCHANTS, SECRET, work, work_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(ifood, ifood_sim) -> Order:
    """A new iFood order in hi."""
    order_id = ifood_sim.place_order(order_type="DELIVERY", delivered_by="MERCHANT")
    work_until(ifood, lambda: Order.objects.filter(external_id=order_id).exists())
    return Order.objects.get(external_id=order_id)


def test_the_order_page_offers_ifoods_actions_and_shows_the_wait(operator_client, ifood, ifood_sim, order):
    """Given a new iFood order, when the operator confirms it on its page, then the page says it waits for iFood, then confirmed."""
    page = operator_client.get(f"/orders/{order.ref}/").content.decode()
    assert "Confirm" in page and "Request cancellation" in page and SECRET not in page
    response = operator_client.post(f"/orders/{order.ref}/actions/confirm/")
    assert response.status_code == 302
    page = operator_client.get(f"/orders/{order.ref}/").content.decode()
    assert "Waiting for iFood" in page
    assert Directive.objects.filter(topic=TOPIC_ACTION).count() == 1
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "confirmed")
    page = operator_client.get(f"/orders/{order.ref}/").content.decode()
    assert "Waiting for iFood" not in page and "Start preparation" in page


def test_the_cancellation_form_lists_ifoods_reasons_and_sends_the_chosen_one(operator_client, ifood, ifood_sim, order):
    """Given the request-cancellation form, then its choices are iFood's reasons; posting one cancels the order through iFood."""
    page = operator_client.get(f"/orders/{order.ref}/actions/request_cancellation/").content.decode()
    assert "Problemas de sistema na loja" in page
    response = operator_client.post(f"/orders/{order.ref}/actions/request_cancellation/", {"reason": "501"})
    assert response.status_code == 302
    work_until(ifood, lambda: Order.objects.get(pk=order.pk).status == "cancelled")
    sent = ifood_sim.requests_to(f"/order/v1.0/orders/{order.external_id}/requestCancellation")[-1].json()
    assert sent == {"reason": "Problemas de sistema na loja", "cancellationCode": "501"}


def test_an_ifood_outage_while_loading_reasons_is_a_form_error_not_a_500(operator_client, ifood, ifood_sim, order):
    """Given iFood answers 503, when the operator opens the cancellation form, then the page explains and nothing is queued."""
    ifood_sim.faults.status = 503
    response = operator_client.get(f"/orders/{order.ref}/actions/request_cancellation/")
    assert response.status_code == 200
    assert "503" in response.content.decode() and SECRET not in response.content.decode()
    assert not Directive.objects.filter(topic=TOPIC_ACTION).exists()


def test_a_viewer_sees_the_order_but_cannot_act(viewer_client, ifood, order):
    """Given a viewer, when posting an action, then it is refused and nothing is queued."""
    assert viewer_client.get(f"/orders/{order.ref}/").status_code == 200
    assert viewer_client.post(f"/orders/{order.ref}/actions/confirm/").status_code == 403
    assert not Directive.objects.filter(topic=TOPIC_ACTION).exists()


def test_the_cli_acts_through_ifood(ifood, ifood_sim, order):
    """Given an iFood order, when `orders action <ref> confirm` runs, then the directive is queued and the JSON list says it waits."""
    call_command("orders", "action", order.ref, "confirm", "--workspace", "main", stdout=StringIO())
    assert Directive.objects.filter(topic=TOPIC_ACTION, payload__action="confirm").count() == 1
    out = StringIO()
    call_command("orders", "list", "--workspace", "main", "--json", stdout=out)
    listed = json.loads(out.getvalue())
    assert [(o["ref"], o["source"], o["external_id"], o["status"]) for o in listed] == [
        (order.ref, str(ifood.pk), order.external_id, "new")
    ]
    assert listed[0]["total_q"] == order.total_q and listed[0]["items"]


def test_the_pane_shows_each_stores_state_and_polling(operator_client, ifood, ifood_sim):
    """Given one store in WARNING, when the manage page is shown, then the pane names the state, its validation and the last poll."""
    ifood_sim.set_merchant_state(MERCHANTS[1], "WARNING")
    work(ifood)
    record_status(ifood)
    page = operator_client.get(f"/integrations/{ifood.pk}/").content.decode()
    assert MERCHANTS[0] in page and MERCHANTS[1] in page
    assert "WARNING" in page and "radius-restriction" in page
    assert "Last poll" in page and "Acknowledgment failures" in page and "every 30 s" in page
    assert SECRET not in page


def test_the_pane_in_webhook_mode_gives_the_receive_url(operator_client, workspace, ifood_sim):
    """Given webhook mode, then the pane shows the URL to set in iFood's portal."""
    from .helpers import add_ifood

    integration = add_ifood(workspace, ifood_sim, event_mode="webhook")
    page = operator_client.get(f"/integrations/{integration.pk}/").content.decode()
    assert receive_path(integration) in page and "X-IFood-Signature" in page
