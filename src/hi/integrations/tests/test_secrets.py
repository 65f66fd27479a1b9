"""A canary secret never appears in HTML, logs, diagnostics, error messages or the database."""
from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.urls import reverse

from hi.conftest import demo_attributes
from hi.integrations.models import Integration, IntegrationAttribute
from hi.integrations.testing.canary import all_database_text

pytestmark = pytest.mark.django_db
CANARY = "canary-7d1e-SECRET-42"


@pytest.fixture
def leaky_sim(sim):
    """A provider that knows the canary key and echoes request headers in its error bodies."""
    sim.accounts[CANARY] = {"id": "acct-canary", "name": "Canary Co"}
    return sim


def echo_headers(request):
    """A misbehaving provider: a 500 whose body repeats the Authorization header."""
    return 500, {"Content-Type": "text/plain"}, f"boom, you sent {request.headers.get('authorization')}".encode()


def database_file_bytes(directory) -> bytes:
    """The raw bytes of the database as SQLite writes it to a file (VACUUM INTO a copy)."""
    if connection.vendor != "sqlite":
        return b""
    target = directory / "copy.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(target)])
    return target.read_bytes()


@pytest.mark.django_db(transaction=True)
def test_the_canary_never_leaks(operator_client, leaky_sim, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    pages: list[str] = []
    add_url = reverse("integration-add-configure", args=["demo"])
    data = {"name": "", **demo_attributes(leaky_sim, key=CANARY), "sync_on_activate": "on"}

    # A failing connection test whose provider echoes the key back: the form re-renders.
    leaky_sim.route("GET", "/api/v1/account", echo_headers)
    pages.append(operator_client.post(add_url, data).content.decode())
    assert "HTTP 500" in pages[-1] and "you sent" not in pages[-1]  # set-up shows no response body at all
    assert not Integration.objects.exists()

    # The passing test saves; then activation fails the same way and keeps the reason.
    del leaky_sim.routes[("GET", "/api/v1/account")]
    leaky_sim.route("GET", "/api/v1/account", lambda r: (
        200, {"Content-Type": "application/json"}, json.dumps(leaky_sim.accounts[CANARY]).encode()
    ))
    operator_client.post(add_url, data)
    integration = Integration.objects.get()
    operator_client.post(reverse("integration-action", args=[integration.pk, "deactivate"]))
    leaky_sim.route("GET", "/api/v1/account", echo_headers)
    operator_client.post(reverse("integration-action", args=[integration.pk, "activate"]))
    integration.refresh_from_db()
    assert integration.state == "setup_retry" and "**REDACTED**" in integration.reason

    for url in [
        "/",
        integration.get_absolute_url(),
        reverse("integration-configure", args=[integration.pk]),
        reverse("integration-reauth", args=[integration.pk]),
        reverse("integration-remove", args=[integration.pk]),
        reverse("integration-diagnostics", args=[integration.pk]),
    ]:
        pages.append(operator_client.get(url).content.decode())
    pages.append(operator_client.post(reverse("integration-action", args=[integration.pk, "test"]), follow=True).content.decode())
    # A reconfigure attempt that fails re-renders the form: the stored secret is not put back.
    pages.append(
        operator_client.post(
            reverse("integration-configure", args=[integration.pk]),
            {"api_url": "ftp://bad", "api_key": "", "catalog": "all", "page_size": "5"},
        ).content.decode()
    )

    for page in pages:
        assert CANARY not in page
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "boom" in logged  # the error was logged...
    assert CANARY not in logged  # ...without the secret
    assert CANARY not in all_database_text()
    raw = database_file_bytes(tmp_path)
    assert connection.vendor != "sqlite" or b"acct-canary" in raw  # the file is really being read
    assert CANARY.encode() not in raw
    stored = IntegrationAttribute.objects.get(integration=integration, key="api_key")
    assert stored.is_secret and stored.value.startswith("gAAAA")


def test_attribute_history_records_that_a_secret_changed_but_not_its_values(demo, sim):
    from hi.integrations.config import setup

    sim.accounts["second-key-for-same-account"] = sim.accounts["demo-key"]
    setup.reconfigure(demo, {"api_key": "second-key-for-same-account"}, actor="test")
    change = demo.attribute_changes.filter(key="api_key").first()
    assert change.is_secret and change.old_value is None and change.new_value is None
    assert "second-key-for-same-account" not in all_database_text()


def test_the_secret_input_is_write_only(operator_client, demo):
    page = operator_client.get(reverse("integration-configure", args=[demo.pk])).content.decode()
    assert 'type="password"' in page and "Leave blank to keep the stored value." in page
    assert 'value="demo-key"' not in page
