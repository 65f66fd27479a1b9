"""A database lock held past HI_DB_LOCK_WAIT_S: providers get 503 + Retry-After, operators a page that says so, never a 500."""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection

from hi.integrations.config.hookkeys import receive_path
from hi.integrations.config.store import save_attributes
from hi.integrations.engine.dblocks import bound_options, set_lock_wait
from hi.integrations.models import InboundEvent, Integration, IntegrationState
from hi.integrations.outbound import standard_webhooks
from hi.integrations.testing.inbound import post_as_provider

# The lock is held by another connection: the test database must really commit.
pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def short_lock_wait():
    """Wait half a second for a lock (instead of HI_DB_LOCK_WAIT_S), as a web process would wait its bound."""
    set_lock_wait(0.5)
    yield
    set_lock_wait(django_settings.HI_DB_LOCK_WAIT_S)


@contextmanager
def held_lock(integration: Integration) -> Iterator[None]:
    """Another connection holds SQLite's write lock, or a PostgreSQL row lock on the integration, until the block ends."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(db["NAME"], timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        other = psycopg.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"] or "localhost", port=db["PORT"] or 5432
        )
        other.execute(f"SELECT 1 FROM {Integration._meta.db_table} WHERE id = %s FOR UPDATE", [integration.pk])
    try:
        yield
    finally:
        other.rollback()
        other.close()


def endpoint(workspace) -> Integration:
    """An active webhook endpoint."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name="n8n", unique_id="https://n8n.example.com/hook", state="active"
    )
    save_attributes(integration, {"url": "https://n8n.example.com/hook", "secret": SECRET}, actor="test")
    return integration


def test_a_webhook_during_a_long_lock_is_answered_503_with_retry_after_and_its_redelivery_accepted(workspace, settings):
    # given a signed delivery, and the configured bound (HI_DB_LOCK_WAIT_S)
    integration = endpoint(workspace)
    body = json.dumps({"type": "order.created", "data": {"id": "ord_1"}}).encode()
    headers = standard_webhooks.headers("msg_locked", int(time.time()), body, [SECRET])
    with held_lock(integration):
        # when it arrives while another connection holds the lock (for as long as it likes)
        started = time.monotonic()
        response = post_as_provider(receive_path(integration), body, headers)
        waited = time.monotonic() - started
        # then it is answered while the lock is still held, after one bounded wait (generously: well
        # before a server's 30 s timeout): 503, asking the provider to retry
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        assert waited < 2 * settings.HI_DB_LOCK_WAIT_S + 5
        assert response.json() == {"error": "temporarily unavailable, try again later"}
    # when the lock is released and the provider redelivers
    again = post_as_provider(receive_path(integration), body, headers)
    # then it is accepted, once
    assert again.status_code == 202
    assert list(InboundEvent.objects.filter(integration=integration).values_list("status", flat=True)) == [InboundEvent.Status.ACCEPTED]


def test_a_console_action_during_a_long_lock_gets_a_busy_page_not_a_500(operator_client, workspace, short_lock_wait):
    # given
    integration = endpoint(workspace)
    with held_lock(integration):
        # when an operator pauses the integration while the database is locked
        response = operator_client.post(f"/integrations/{integration.pk}/pause/")
        # then the page says hi is busy, changed nothing, and when to try again
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        assert "hi is busy right now" in response.content.decode() and "Nothing was changed" in response.content.decode()
    integration.refresh_from_db()
    assert integration.state == IntegrationState.ACTIVE


def test_the_lock_wait_is_bounded_for_web_processes_and_longer_for_the_worker(settings):
    # then: the web bound is in the connection options, and hi_worker's longer bound replaces it
    options = connection.settings_dict["OPTIONS"]
    if connection.vendor == "sqlite":
        assert options["timeout"] == settings.HI_DB_LOCK_WAIT_S < settings.HI_WORKER_DB_LOCK_WAIT_S
        assert bound_options(connection.settings_dict["ENGINE"], options, 30)["timeout"] == 30
    else:
        assert f"lock_timeout={int(settings.HI_DB_LOCK_WAIT_S * 1000)}" in options["options"]
        assert bound_options(connection.settings_dict["ENGINE"], options, 30)["options"].count("lock_timeout") == 1
