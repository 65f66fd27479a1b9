"""Outbound deliveries: signed so the reference library verifies them, filtered, and retried by the rules."""
from __future__ import annotations

from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

import hi
from hi.integrations.api import Directive, DirectiveStatus, Integration, IntegrationState, IntegrationType, SetupError, attribute_values
from hi.integrations.testing import setup
from hi.services.webhook.handlers import TOPIC_DELIVER
from hi.services.webhook.models import Delivery

from .helpers import SECRET, add_endpoint, emit, event_deliveries, make_due, run_due
from .sink import PATH, WebhookSink


def test_a_delivery_verifies_with_the_reference_library_and_keeps_its_id_across_a_retry(
    workspace, sink, django_capture_on_commit_callbacks
):
    add_endpoint(workspace, sink.endpoint)
    event = emit(django_capture_on_commit_callbacks, workspace, "order.created", {"id": 7, "total": "9.50"})
    sink.faults.fail_next = 1  # the first attempt meets a 503
    assert run_due() == [DirectiveStatus.QUEUED]
    make_due()
    assert run_due() == [DirectiveStatus.DONE]

    first, second = sink.requests_to(PATH)[-2:]
    delivery = event_deliveries().get()
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (Delivery.Status.DELIVERED, 2, 200)
    payload = Webhook(SECRET).verify(second.body, second.headers)
    assert payload["type"] == "order.created" and payload["data"] == {"id": 7, "total": "9.50"}
    assert payload["timestamp"] == event.created_at.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert second.headers["content-type"] == "application/json"
    assert second.headers["user-agent"] == f"hi/{hi.__version__}"
    assert b" " not in second.body  # compact JSON: the exact bytes signed


def test_the_events_filter_selects_exact_names_and_wildcards(workspace, sink, django_capture_on_commit_callbacks):
    add_endpoint(workspace, sink.endpoint, events="order.*, customer.deleted")
    for event_type in ("order.created", "order.paid", "customer.deleted", "customer.created", "orders.x"):
        emit(django_capture_on_commit_callbacks, workspace, event_type)
    assert Directive.objects.filter(topic=TOPIC_DELIVER).count() == 3
    assert sorted(event_deliveries().values_list("event_type", flat=True)) == [
        "customer.deleted", "order.created", "order.paid",
    ]


def test_a_malformed_events_filter_is_refused_offline(sink):
    with pytest.raises(SetupError) as caught:
        setup.check_configuration(IntegrationType.WEBHOOK, {"url": sink.endpoint, "events": "order.*.x, ,a b"})
    assert "events" in caught.value.field_errors


def test_410_gone_disables_the_endpoint(workspace, sink, django_capture_on_commit_callbacks):
    integration = add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    sink.faults.status = 410
    assert run_due() == [DirectiveStatus.FAILED]
    integration.refresh_from_db()
    assert integration.state == IntegrationState.DISABLED
    assert "410" in integration.reason


def test_503_is_queued_for_a_retry(workspace, sink, django_capture_on_commit_callbacks):
    add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    sink.faults.status = 503
    assert run_due() == [DirectiveStatus.QUEUED]
    directive = Directive.objects.get(topic=TOPIC_DELIVER)
    assert directive.attempts == 1 and directive.max_attempts == 8
    assert directive.next_run_at > timezone.now()


def test_429_waits_for_retry_after(workspace, sink, django_capture_on_commit_callbacks):
    add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    sink.faults.status = 429
    sink.faults.extra_headers = {"Retry-After": "120"}
    before = timezone.now()
    assert run_due() == [DirectiveStatus.QUEUED]
    directive = Directive.objects.get(topic=TOPIC_DELIVER)
    assert directive.next_run_at >= before + timedelta(seconds=115)


def test_400_is_retried_on_the_schedule_not_failed(workspace, sink, django_capture_on_commit_callbacks):
    add_endpoint(workspace, sink.endpoint)
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    sink.faults.status = 400
    before = timezone.now()
    assert run_due() == [DirectiveStatus.QUEUED]
    directive = Directive.objects.get(topic=TOPIC_DELIVER)
    assert directive.status == DirectiveStatus.QUEUED
    assert before + timedelta(seconds=3) <= directive.next_run_at <= timezone.now() + timedelta(seconds=7)
    assert "400" in directive.last_error


def test_a_name_resolving_to_loopback_is_refused_unless_allow_listed(
    workspace, sink, settings, django_capture_on_commit_callbacks
):
    url = f"http://localhost:{sink.url.rsplit(':', 1)[1]}{PATH}"
    add_endpoint(workspace, url)  # allowed while 127.0.0.0/8 is allow-listed
    emit(django_capture_on_commit_callbacks, workspace, "order.created")
    settings.HI_OUTBOUND_ALLOWED_NETWORKS = []
    sink.requests.clear()
    assert run_due() == [DirectiveStatus.FAILED]  # refused again at send time
    assert sink.requests == []
    with pytest.raises(SetupError) as caught:
        setup.check_configuration(IntegrationType.WEBHOOK, {"url": url})
    assert "url" in caught.value.field_errors


def test_a_blank_secret_is_generated_at_activation(workspace):
    with WebhookSink() as open_sink:  # accepts any signature
        integration = setup.add_integration(
            workspace, IntegrationType.WEBHOOK, "", {"url": open_sink.endpoint}, actor="test"
        )
        assert integration.state == IntegrationState.ACTIVE
        secret = attribute_values(integration)["secret"]
        assert secret.startswith("whsec_")
        last_ping = open_sink.requests_to(PATH)[-1]
        Webhook(secret).verify(last_ping.body, last_ping.headers)  # activation's ping used the new secret
    assert integration.unique_id == open_sink.endpoint and integration.name == "127.0.0.1"


def test_the_pane_explains_verification_and_never_shows_the_secret(workspace, sink, rf):
    from hi.integrations.api import get_integration_gateway

    integration = add_endpoint(workspace, sink.endpoint, events="order.*")
    html = get_integration_gateway(IntegrationType.WEBHOOK).manage(rf.get("/"), integration)
    assert sink.endpoint in html and "order.*" in html and "webhook-signature" in html
    assert "<strong>set</strong>" in html and SECRET not in html


def test_the_signing_secret_is_shown_once_by_the_cli_and_the_console(workspace, sink, client):
    import io
    import json as jsonlib

    from django.core.management import call_command
    from django.urls import reverse

    from hi.conftest import member
    from hi.workspaces.models import Role

    workspace.slug = "default"
    workspace.save()
    sink.route("POST", "/cli", sink.receive)
    sink.route("POST", "/console", sink.receive)
    out = io.StringIO()
    call_command(
        "integration", "add", "webhook", "--name", "CLI", "--set", f"url={sink.url}/cli", "--set", f"secret={SECRET}", "--json", stdout=out
    )
    assert jsonlib.loads(out.getvalue())["signing_secret"] == SECRET
    client.force_login(member(workspace, "opal", Role.OPERATOR))
    data = {"name": "Console", "url": f"{sink.url}/console", "secret": SECRET, "events": "*", "description": ""}
    response = client.post(reverse("integration-add-configure", args=["webhook"]), data)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert f'data-revealed="signing_secret">{SECRET}<' in response.content.decode()
    integration = Integration.objects.get(name="Console")
    assert SECRET not in client.get(integration.get_absolute_url()).content.decode()


def test_send_test_event_delivers_a_signed_webhook_test(workspace, sink, client):
    from django.urls import reverse

    from hi.conftest import member
    from hi.workspaces.models import Role

    integration = add_endpoint(workspace, sink.endpoint, events="order.created")
    client.force_login(member(workspace, "tess", Role.OPERATOR))
    page = client.get(integration.get_absolute_url()).content.decode()
    assert "Send test event" in page
    response = client.post(reverse("webhook-send-test", args=[integration.pk]), follow=True)
    assert "Test event queued" in response.content.decode()
    assert run_due() == [DirectiveStatus.DONE]
    delivered = sink.requests_to(PATH)[-1]
    assert delivered.json()["type"] == "webhook.test"
    Webhook(SECRET).verify(delivered.body, delivered.headers)
    viewer = member(workspace, "vera", Role.VIEWER)
    client.force_login(viewer)
    assert client.post(reverse("webhook-send-test", args=[integration.pk])).status_code == 403
