"""Delivery records, the delivery log, extra headers, the retry schedule, resend and recovery."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from hi.conftest import member
from hi.integrations.api import REDACTED, Directive, DirectiveStatus, IntegrationState, IntegrationType, SetupError
from hi.integrations.testing import setup
from hi.services.webhook import deliveries
from hi.services.webhook.handlers import SCHEDULE
from hi.services.webhook.models import Delivery, DeliveryAttempt
from hi.workspaces.models import Role

from .helpers import SECRET, add_endpoint, emit, event_deliveries, make_due, run_due
from .sink import PATH

TOKEN = "Bearer extra-header-canary-7f3a"




def test_each_attempt_is_logged_with_redacted_headers_bodies_status_and_latency(
    workspace, sink, client, django_capture_on_commit_callbacks
):
    # given an endpoint with an extra Authorization header, and a receiver failing once
    integration = add_endpoint(workspace, sink.endpoint, headers=f'{{"Authorization": "{TOKEN}", "X-Tenant": "cafe"}}')
    emit(django_capture_on_commit_callbacks, workspace, "order.created", {"id": 7, "note": "x" * 6000})
    sink.faults.fail_next = 1
    # when the worker tries twice
    run_due()
    make_due()
    run_due()
    # then the receiver got the extra headers, and the log holds both attempts without secrets
    sent = sink.requests_to(PATH)[-1]
    assert sent.headers["authorization"] == TOKEN and sent.headers["x-tenant"] == "cafe"
    delivery = event_deliveries().get()
    first, second = delivery.attempt_log.order_by("at", "id")
    assert (first.ok, first.status_code, second.ok, second.status_code) == (False, 503, True, 200)
    assert first.error and second.latency_ms is not None and first.number == 1 and second.number == 2
    assert first.request_headers["webhook-signature"] == REDACTED
    assert first.request_headers["Authorization"] == REDACTED and first.request_headers["X-Tenant"] == REDACTED
    assert first.request_headers["webhook-id"] == delivery.message_id
    assert len(first.request_body) == deliveries.MAX_BODY_LOGGED and '"order.created"' in first.request_body
    # and the console shows it, filtered, never the secrets
    client.force_login(member(workspace, "vic", Role.VIEWER))
    page = client.get(reverse("webhook-delivery", args=[integration.pk, delivery.pk])).content.decode()
    assert "HTTP 503" in page and "HTTP 200" in page and delivery.message_id in page and REDACTED in page
    assert TOKEN not in page and SECRET not in page
    listing = client.get(reverse("webhook-deliveries", args=[integration.pk]), {"status": "delivered", "type": "order.created"})
    assert f'data-delivery="{delivery.pk}"' in listing.content.decode()
    assert f'data-delivery="{delivery.pk}"' not in client.get(
        reverse("webhook-deliveries", args=[integration.pk]), {"status": "failed"}
    ).content.decode()
    assert f'data-delivery="{delivery.pk}"' not in client.get(
        reverse("webhook-deliveries", args=[integration.pk]), {"type": "order.paid"}
    ).content.decode()


@pytest.mark.parametrize(
    "headers, message",
    [
        ("not json", "JSON object"),
        ('["a"]', "JSON object"),
        ('{"webhook-signature": "v1,x"}', "set by hi"),
        ('{"Bad Name": "v"}', "not a valid header name"),
        ('{"X-Key": "line\\nbreak-canary"}', "one line of text"),
    ],
)
def test_malformed_extra_headers_are_refused_without_echoing_the_value(sink, headers, message):
    with pytest.raises(SetupError) as caught:
        setup.check_configuration(IntegrationType.WEBHOOK, {"url": sink.endpoint, "headers": headers})
    assert message in caught.value.field_errors["headers"]
    assert "canary" not in caught.value.field_errors["headers"]


def test_retries_follow_the_schedule_then_the_delivery_is_dead(workspace, sink, django_capture_on_commit_callbacks):
    # given a receiver that refuses every delivery with 400 (not an outage: the breaker stays closed)
    add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    sink.faults.status = 400
    directive = Directive.objects.get()
    # when every attempt is made as soon as it is due
    for expected in SCHEDULE:
        before = timezone.now()
        assert run_due() == [DirectiveStatus.QUEUED]
        directive.refresh_from_db()
        # then each wait is the schedule's (±20 % jitter)
        wait = (directive.next_run_at - before).total_seconds()
        assert expected * 0.8 - 1 <= wait <= expected * 1.2 + 1, (expected, wait)
        make_due()
    assert run_due() == [DirectiveStatus.DEAD]
    delivery = event_deliveries().get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 8)
    assert "Gave up after 8 attempts" in delivery.reason
    assert len(sink.deliveries()) == 8


def test_a_delivered_event_can_be_resent_with_the_same_webhook_id(workspace, sink, client, django_capture_on_commit_callbacks):
    # given a delivered event
    integration = add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    run_due()
    delivery = event_deliveries().get()
    client.force_login(member(workspace, "opal", Role.OPERATOR))
    # when the operator resends it (twice in a row)
    url = reverse("webhook-resend", args=[integration.pk, delivery.pk])
    assert "queued again" in client.post(url, follow=True).content.decode()
    assert "already queued" in client.post(url, follow=True).content.decode()
    run_due()
    # then the receiver got it twice with one webhook-id, verified
    first, second = sink.deliveries()[-2:]
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    Webhook(SECRET).verify(second.body, second.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DELIVERED, 2)
    # and a viewer cannot resend
    client.force_login(member(workspace, "vera", Role.VIEWER))
    assert client.post(url).status_code == 403


def test_recover_resends_failed_and_skipped_deliveries_since_a_time(workspace, sink, client, django_capture_on_commit_callbacks):
    # given an old failed delivery, a recent failed one, a recent skipped one and a delivered one
    integration = add_endpoint(workspace, sink.endpoint)
    old = deliveries.create(integration, "order.created", "2026-01-01T00:00:00+00:00", {"n": "old"}, status=Delivery.Status.SKIPPED)
    event_deliveries().filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    recent_failed = deliveries.create(integration, "order.created", "t", {"n": "failed"}, status=Delivery.Status.SKIPPED)
    event_deliveries().filter(pk=recent_failed.pk).update(status=Delivery.Status.FAILED)
    deliveries.create(integration, "order.created", "t", {"n": "skipped"}, status=Delivery.Status.SKIPPED)
    deliveries.create(integration, "order.created", "t", {"n": "fine"})
    run_due()
    client.force_login(member(workspace, "opal", Role.OPERATOR))
    since = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    # when the operator recovers since an hour ago
    page = client.post(reverse("webhook-recover", args=[integration.pk]), {"since_at": since}, follow=True).content.decode()
    run_due()
    # then exactly the two recent ones were sent again
    assert "2 failed or skipped deliveries" in page
    sent = [r.json()["data"]["n"] for r in sink.deliveries()]
    assert sorted(sent) == ["failed", "fine", "skipped"]
    assert event_deliveries().get(pk=old.pk).status == Delivery.Status.SKIPPED
    # and a malformed time changes nothing
    bad = client.post(reverse("webhook-recover", args=[integration.pk]), {"since_at": "yesterday"}, follow=True)
    assert bad.status_code == 200 and "Choose when to recover from" in bad.content.decode()


def test_the_cli_lists_resends_and_recovers(workspace, sink, django_capture_on_commit_callbacks):
    import io
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    workspace.slug = "default"
    workspace.save()
    integration = add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    sink.faults.status = 410
    run_due()
    out = io.StringIO()
    call_command("webhook", "deliveries", str(integration.pk), "--status", "failed", "--json", stdout=out)
    [row] = json.loads(out.getvalue())
    assert row["status"] == "failed" and row["last_status_code"] == 410
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("webhook", "recover", str(integration.pk), "--since", "soon")
    out = io.StringIO()
    call_command(
        "webhook", "recover", str(integration.pk), "--since", (timezone.now() - timedelta(hours=1)).isoformat(), "--json", stdout=out
    )
    assert json.loads(out.getvalue())["recovered"] == 1
    with pytest.raises(CommandError, match="already queued"):
        call_command("webhook", "resend", str(integration.pk), str(row["id"]))


def test_finished_deliveries_are_pruned_after_the_retention(workspace, sink, settings):
    settings.HI_RETENTION_DAYS = 30
    integration = add_endpoint(workspace, sink.endpoint)
    old = deliveries.create(integration, "a", "t", {}, status=Delivery.Status.SKIPPED)
    pending = deliveries.create(integration, "b", "t", {})
    event_deliveries().filter(pk__in=[old.pk, pending.pk]).update(created_at=timezone.now() - timedelta(days=31))
    assert deliveries.prune(integration) == 1
    assert list(event_deliveries().values_list("pk", flat=True)) == [pending.pk]


def test_other_workspaces_never_see_an_endpoints_deliveries(workspace, other_workspace, sink, client):
    integration = add_endpoint(workspace, sink.endpoint)
    delivery = deliveries.create(integration, "a", "t", {}, status=Delivery.Status.SKIPPED)
    client.force_login(member(other_workspace, "olga", Role.ADMIN))
    assert client.get(reverse("webhook-deliveries", args=[integration.pk])).status_code == 404
    assert client.get(reverse("webhook-delivery", args=[integration.pk, delivery.pk])).status_code == 404
    assert client.post(reverse("webhook-resend", args=[integration.pk, delivery.pk])).status_code == 404
    assert not DeliveryAttempt.objects.filter(delivery=delivery).exists() and IntegrationState.ACTIVE == integration.state


@pytest.mark.django_db(transaction=True)
def test_events_during_activation_are_sent_once_the_endpoint_is_active(workspace, sink):
    # given an endpoint subscribed to state changes, added (each change dispatched as it commits)
    add_endpoint(workspace, sink.endpoint, events="integration.state_changed")
    # when the worker runs
    run_due()
    # then both of its activation's state changes were delivered, none skipped
    sent = [(r.json()["data"]["from"], r.json()["data"]["to"]) for r in sink.deliveries()]
    assert ("activating", "active") in sent and len(sent) == event_deliveries().count() >= 2
    assert not event_deliveries().exclude(status=Delivery.Status.DELIVERED).exists()


def test_a_delivery_whose_directive_was_cancelled_says_so_and_can_be_resent(workspace, sink, client):
    from hi.integrations.testing import directive_actions

    integration = add_endpoint(workspace, sink.endpoint)
    sink.faults.status = 503
    delivery = deliveries.create(integration, "order.created", "t", {"n": 1})
    run_due()
    directive_actions.cancel(Directive.objects.get(pk=event_deliveries().get(pk=delivery.pk).directive_id))
    client.force_login(member(workspace, "opal", Role.OPERATOR))
    page = client.get(reverse("webhook-delivery", args=[integration.pk, delivery.pk])).content.decode()
    assert "nothing will send it unless you resend it" in page and ">Resend<" in page
    sink.faults.status = None
    assert "queued again" in client.post(reverse("webhook-resend", args=[integration.pk, delivery.pk]), follow=True).content.decode()
    run_due()
    assert event_deliveries().get(pk=delivery.pk).status == Delivery.Status.DELIVERED
