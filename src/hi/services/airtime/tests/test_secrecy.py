"""A voucher code is a secret: encrypted at rest, shown by its last 4 characters on pages, in the history, events and logs."""
from __future__ import annotations

import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from hi.integrations.api import Event, IntegrationLog, decrypt
from hi.integrations.testing.canary import all_database_text, leaks
from hi.orders.models import OrderEvent
from hi.services.airtime.models import Voucher

from .conftest import confirm, new_order, run_directives

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(workspace, sim, airtime, django_capture_on_commit_callbacks, caplog):
    """A voucher bought for an order, with every log record of the purchase captured; (voucher, code)."""
    caplog.set_level(logging.DEBUG)
    original = sim.routes[("POST", "/issue")]

    def echoing(request):
        """The provider's answer, its message quoting the code (as careless providers do)."""
        status, headers, body = original(request)
        answer = json.loads(body)
        answer["message"] = f"Voucher {answer['voucher_code']} issued."
        return status, headers, json.dumps(answer).encode()

    sim.route("POST", "/issue", echoing)
    order = new_order(workspace, ("AIR-CLARO-10", "1", 1000))
    confirm(order, django_capture_on_commit_callbacks)
    run_directives(airtime)
    voucher = Voucher.objects.get(order=order)
    return voucher, sim.transactions[voucher.reference].voucher_code


def test_the_code_is_encrypted_at_rest_and_nowhere_in_clear_in_the_database(issued):
    # given
    voucher, code = issued
    # then the row holds a Fernet token of it, and no table holds the code in any encoding
    assert voucher.code != code and decrypt(voucher.code) == code
    assert leaks(all_database_text(), code) == []


def test_history_events_and_the_provider_s_message_show_only_the_last_4(issued):
    # given
    voucher, code = issued
    # then
    history = " ".join(OrderEvent.objects.filter(order=voucher.order).values_list("message", flat=True))
    assert f"••••{code[-4:]}" in history and code not in history
    [event] = Event.objects.filter(type="voucher.issued")
    assert event.data["code"] == f"••••{code[-4:]}" and leaks(json.dumps(event.data), code) == []
    assert voucher.message == "Voucher **REDACTED** issued."


def test_the_logs_show_the_code_masked(issued, caplog):
    # given
    voucher, code = issued
    # then the integration's log says it was issued, by its last 4 characters, and no log line holds the code
    console = " ".join(IntegrationLog.objects.filter(integration=voucher.integration).values_list("message", flat=True))
    assert f"Airtime voucher ••••{code[-4:]} issued" in console and leaks(console, code) == []
    assert leaks("\n".join(record.getMessage() for record in caplog.get_records("setup")), code) == []


def test_the_pane_shows_the_balance_and_the_code_masked(issued, airtime, operator_client):
    # given
    voucher, code = issued
    # when
    page = operator_client.get(airtime.get_absolute_url()).content.decode()
    # then
    assert "990.00 BRL" in page and f"••••{code[-4:]}" in page and leaks(page, code) == []


def test_rotating_the_encryption_keys_re_encrypts_the_codes(issued, settings):
    # given a new key put first
    voucher, code = issued
    new_key = Fernet.generate_key().decode()
    settings.HI_ENCRYPTION_KEYS = [new_key, *settings.HI_ENCRYPTION_KEYS]
    # when
    call_command("hi_rotate_keys")
    # then the new key alone decrypts the code
    settings.HI_ENCRYPTION_KEYS = [new_key]
    voucher.refresh_from_db()
    assert decrypt(voucher.code) == code


def test_the_order_page_shows_each_voucher_s_status_and_its_code_masked(issued, workspace, sim, airtime, operator_client,
                                                                          django_capture_on_commit_callbacks):
    # given a second order whose voucher stays pending
    voucher, code = issued
    sim.outcome = "pending"
    pending_order = new_order(workspace, ("AIR-VIVO-20", "1", 2000))
    confirm(pending_order, django_capture_on_commit_callbacks)
    run_directives(airtime)
    # when the operator opens each order
    page = operator_client.get(voucher.order.get_absolute_url()).content.decode()
    pending = operator_client.get(pending_order.get_absolute_url()).content.decode()
    # then the first shows its voucher issued, by the code's last 4 characters; the second its voucher pending
    assert "Airtime vouchers" in page and "Issued" in page and f"••••{code[-4:]}" in page and leaks(page, code) == []
    assert "Pending" in pending and "vivo-br" in pending and "claro-br" not in pending


def test_an_order_without_vouchers_has_no_airtime_panel(workspace, airtime, operator_client):
    # when
    page = operator_client.get(new_order(workspace, ("BURGER-1", "1", 2500)).get_absolute_url()).content.decode()
    # then
    assert page.count("Airtime vouchers") == 0
