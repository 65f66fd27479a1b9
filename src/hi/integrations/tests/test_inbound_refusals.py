"""Refused inbound requests cannot fill the disk: an excerpt only, a rate limit per source shown once, short retention, a cap."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.db.models.functions import Length
from django.utils import timezone

from hi.integrations.config.hookkeys import receive_path
from hi.integrations.config.store import save_attributes
from hi.integrations.engine import refusals
from hi.integrations.engine.worker import HOUSEKEEPING, _prune
from hi.integrations.models import InboundEvent, Integration, IntegrationState, RefusalTally
from hi.integrations.outbound import standard_webhooks
from hi.integrations.testing.inbound import post_as_provider

pytestmark = pytest.mark.django_db
Status = InboundEvent.Status
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MB = 1_000_000


def endpoint(workspace, name: str = "n8n", state: str = IntegrationState.ACTIVE) -> Integration:
    """A webhook endpoint: anyone may post to its receive URL; only signed requests are accepted."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name=name, unique_id=f"https://{name}.example.com/hook", state=state
    )
    save_attributes(integration, {"url": f"https://{name}.example.com/hook", "secret": SECRET}, actor="test")
    return integration


def unsigned(integration, body: bytes = b'{"type": "x"}', address: str = "198.51.100.7", **environ):
    """A post without a signature from `address`."""
    return post_as_provider(receive_path(integration), body, REMOTE_ADDR=address, **environ)


def stored_bytes(integration) -> int:
    """Characters of body kept for the integration's rows."""
    return InboundEvent.objects.filter(integration=integration).aggregate(n=Sum(Length("body")))["n"] or 0


def job(name: str):
    """A housekeeping job of the worker, by name."""
    return next(entry for entry in HOUSEKEEPING if entry.name == name)


def test_a_hundred_unsigned_megabyte_posts_leave_a_small_bounded_trace_and_one_flood(workspace, settings):
    # given
    integration = endpoint(workspace)
    limit = settings.HI_INBOUND_REFUSAL_LIMIT
    # when one address posts 100 unsigned bodies of 1,000,000 bytes
    codes = {unsigned(integration, b"{" + b"x" * (MB - 2) + b"}", "203.0.113.9").status_code for _ in range(100)}
    # then every one is refused, the first `limit` are logged with an excerpt, the rest only counted
    assert codes == {401}
    rows = InboundEvent.objects.filter(integration=integration)
    assert rows.count() == limit and set(rows.values_list("body_size", flat=True)) == {MB}
    assert stored_bytes(integration) <= limit * settings.HI_INBOUND_REJECTED_EXCERPT_BYTES
    [flood] = refusals.refusal_floods(integration)
    assert (flood.source, flood.refused, flood.unlogged) == ("203.0.113.9", 100, 100 - limit)
    assert flood.text.startswith("100 requests refused from 203.0.113.9") and "Standard Webhooks header is missing" in flood.text


def test_a_flood_from_one_address_does_not_silence_another(workspace, settings):
    # given a flood from one address
    settings.HI_INBOUND_REFUSAL_LIMIT = 3
    integration = endpoint(workspace)
    for _ in range(10):
        unsigned(integration, address="203.0.113.9")
    # when another address is refused
    unsigned(integration, address="192.0.2.44")
    # then it is still logged
    assert InboundEvent.objects.filter(integration=integration, source_address="192.0.2.44").count() == 1
    assert InboundEvent.objects.filter(integration=integration, source_address="203.0.113.9").count() == 3
    assert [flood.source for flood in refusals.refusal_floods(integration)] == ["203.0.113.9"]


def test_a_new_window_logs_again_and_the_streak_keeps_counting(workspace, settings):
    # given an address past its limit
    settings.HI_INBOUND_REFUSAL_LIMIT = 2
    integration = endpoint(workspace)
    for _ in range(4):
        unsigned(integration)
    # when its window is over
    RefusalTally.objects.update(window_started_at=timezone.now() - timedelta(seconds=settings.HI_INBOUND_REFUSAL_WINDOW_S + 1))
    unsigned(integration)
    # then the next refusal is logged again, and the flood still counts the whole streak
    assert InboundEvent.objects.filter(integration=integration).count() == 3
    [flood] = refusals.refusal_floods(integration)
    assert (flood.refused, flood.unlogged) == (5, 2)


def test_an_accepted_request_is_never_rate_limited(workspace, settings):
    # given an address past its refusal limit
    settings.HI_INBOUND_REFUSAL_LIMIT = 1
    integration = endpoint(workspace)
    unsigned(integration), unsigned(integration)
    # when the same address sends a signed request
    body = json.dumps({"type": "order.created"}).encode()
    headers = standard_webhooks.headers("msg_ok", int(time.time()), body, [SECRET])
    response = post_as_provider(receive_path(integration), body, headers, REMOTE_ADDR="198.51.100.7")
    # then it is accepted and stored whole
    assert response.status_code == 202
    assert InboundEvent.objects.get(integration=integration, status=Status.ACCEPTED).body == body.decode()


def test_the_flood_is_shown_once_on_the_manage_page(operator_client, workspace, settings):
    # given
    settings.HI_INBOUND_REFUSAL_LIMIT = 2
    integration = endpoint(workspace)
    for _ in range(50):
        unsigned(integration, address="203.0.113.9")
    # when
    page = operator_client.get(integration.get_absolute_url()).content.decode()
    # then one line names the source and the count; the log shows the logged rows only
    assert page.count('data-flood-source="203.0.113.9"') == 1 and "50 requests refused from 203.0.113.9" in page
    assert page.count('data-inbound-status="rejected"') == 2


def test_a_paused_integration_keeps_no_body(workspace):
    # given
    integration = endpoint(workspace, state=IntegrationState.PAUSED)
    # when a large body arrives
    response = unsigned(integration, b"{" + b"x" * 500_000 + b"}")
    # then it is answered 503 and only its metadata kept
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    row = InboundEvent.objects.get(integration=integration)
    assert (row.body, row.body_size, row.http_status) == ("", 500_002, 503)


def test_refusals_are_counted_per_ipv6_64_and_behind_a_proxy_by_its_forwarded_address(workspace, settings):
    settings.HI_INBOUND_REFUSAL_LIMIT = 1
    integration = endpoint(workspace)
    # one /64, two addresses: one source
    unsigned(integration, address="2001:db8:1:2::1")
    unsigned(integration, address="2001:db8:1:2::ffff")
    assert list(RefusalTally.objects.values_list("source", "refused")) == [("2001:db8:1:2::/64", 2)]
    # without a trusted proxy, X-Forwarded-For is the client's own claim and is ignored
    unsigned(integration, address="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert InboundEvent.objects.filter(source_address="192.0.2.1").exists()
    # behind one, its last entry is the address the proxy saw
    settings.HI_BEHIND_PROXY = True
    unsigned(integration, address="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.51")
    assert InboundEvent.objects.filter(source_address="203.0.113.51").exists()


def test_rejected_rows_have_their_own_short_retention(workspace, settings):
    # given an accepted row and a rejected one, both older than HI_INBOUND_REJECTED_DAYS but younger than 30 days
    integration = endpoint(workspace)
    old = timezone.now() - timedelta(days=settings.HI_INBOUND_REJECTED_DAYS + 1)
    for status in (Status.PROCESSED, Status.REJECTED):
        row = InboundEvent.objects.create(workspace=workspace, integration=integration, status=status, http_status=202)
        InboundEvent.objects.filter(pk=row.pk).update(received_at=old)
    RefusalTally.objects.create(integration=integration, source="192.0.2.1", window_started_at=old, first_at=old, last_at=old, refused=1)
    # when the worker prunes
    _prune(None)
    # then the refused request and its tally are gone, the processed one is kept
    assert list(InboundEvent.objects.values_list("status", flat=True)) == [Status.PROCESSED]
    assert not RefusalTally.objects.exists()


def test_rejected_rows_beyond_the_per_integration_cap_are_deleted_oldest_first(workspace, settings):
    # given 8 rejected rows and an accepted one for one integration, 2 rejected for another
    settings.HI_INBOUND_REJECTED_MAX = 5
    busy, quiet = endpoint(workspace), endpoint(workspace, "quiet")
    now = timezone.now()
    for integration, count in ((busy, 8), (quiet, 2)):
        for n in range(count):
            row = InboundEvent.objects.create(
                workspace=workspace, integration=integration, status=Status.REJECTED, http_status=401, reason=f"r{n}"
            )
            InboundEvent.objects.filter(pk=row.pk).update(received_at=now - timedelta(minutes=count - n))
    InboundEvent.objects.create(workspace=workspace, integration=busy, status=Status.ACCEPTED, http_status=202)
    # when the worker's cap job runs
    job("cap_rejected_inbound").run(None)
    # then the 5 newest rejected rows remain, the accepted row and the other integration's are untouched
    kept = InboundEvent.objects.filter(integration=busy, status=Status.REJECTED).order_by("received_at")
    assert list(kept.values_list("reason", flat=True)) == ["r3", "r4", "r5", "r6", "r7"]
    assert InboundEvent.objects.filter(integration=busy, status=Status.ACCEPTED).count() == 1
    assert InboundEvent.objects.filter(integration=quiet).count() == 2
