"""Auto-disable on a sustained error rate, skipped events while disabled, and recovery afterwards."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hi.integrations.api import IntegrationState
from hi.integrations.testing import lifecycle
from hi.services.webhook import deliveries
from hi.services.webhook.models import Delivery, DeliveryAttempt

from .helpers import add_endpoint, emit, event_deliveries, make_due, run_due


@pytest.fixture(autouse=True)
def rule(settings):
    """A small rule: 4 attempts, 75 % failed, failing for at least 10 minutes."""
    settings.HI_WEBHOOK_DISABLE_WINDOW_S = 3600
    settings.HI_WEBHOOK_DISABLE_MIN_ATTEMPTS = 4
    settings.HI_WEBHOOK_DISABLE_ERROR_RATE = 0.75
    settings.HI_WEBHOOK_DISABLE_MIN_SPAN_S = 600
    settings.HI_BREAKER_FAIL_MAX = 100


def age_attempts(minutes: int) -> None:
    """Move every logged attempt `minutes` into the past."""
    DeliveryAttempt.objects.update(at=timezone.now() - timedelta(minutes=minutes))


def test_a_sustained_error_rate_disables_the_endpoint_and_later_events_are_skipped(workspace, sink, django_capture_on_commit_callbacks):
    # given an endpoint whose receiver has failed three deliveries for 15 minutes
    integration = add_endpoint(workspace, sink.endpoint)
    sink.faults.status = 500
    for n in range(3):
        emit(django_capture_on_commit_callbacks, workspace, "order.created", {"n": n})
    run_due()
    age_attempts(15)
    integration.refresh_from_db()
    assert integration.state == IntegrationState.ACTIVE  # three attempts: below the minimum
    # when a fourth attempt fails
    emit(django_capture_on_commit_callbacks, workspace, "order.created", {"n": 3})
    run_due()
    # then the endpoint is disabled with the reason shown to the operator
    integration.refresh_from_db()
    assert integration.state == IntegrationState.DISABLED
    assert "Disabled automatically: 4 of 4 delivery attempts in the last 1 h failed (100%)" in integration.reason
    # and an event arriving now is kept as skipped, not dropped, and not sent
    sent_before = len(sink.requests)
    emit(django_capture_on_commit_callbacks, workspace, "order.paid", {"n": 4})
    skipped = event_deliveries().get(event_type="order.paid")
    assert skipped.status == Delivery.Status.SKIPPED and "disabled" in skipped.reason
    assert run_due() == [] and len(sink.requests) == sent_before
    # when the receiver is fixed, the endpoint activated, and the last hour recovered
    sink.faults.status = None
    integration.refresh_from_db()
    lifecycle.activate(integration, "test")
    recovered = deliveries.recover(integration, timezone.now() - timedelta(hours=1))
    make_due()
    run_due()
    # then every event reached the receiver (the pending ones, the skipped one)
    assert recovered == 1
    delivered = set(event_deliveries().filter(status=Delivery.Status.DELIVERED).values_list("data__n", flat=True))
    assert delivered == {0, 1, 2, 3, 4}


def test_a_brief_failure_among_successes_does_not_disable(workspace, sink, django_capture_on_commit_callbacks):
    # given an endpoint with five successful deliveries in the window
    integration = add_endpoint(workspace, sink.endpoint)
    for n in range(5):
        emit(django_capture_on_commit_callbacks, workspace, "order.created", {"n": n})
    run_due()
    # when four deliveries fail, long enough ago
    sink.faults.status = 500
    for n in range(4):
        emit(django_capture_on_commit_callbacks, workspace, "order.created", {"n": 10 + n})
    run_due()
    age_attempts(15)
    emit(django_capture_on_commit_callbacks, workspace, "order.created", {"n": 20})
    run_due()
    # then 5 of 10 failed (50 %): still active
    integration.refresh_from_db()
    assert integration.state == IntegrationState.ACTIVE


def test_a_burst_of_failures_younger_than_the_span_does_not_disable(workspace, sink, django_capture_on_commit_callbacks):
    integration = add_endpoint(workspace, sink.endpoint)
    sink.faults.status = 500
    for n in range(6):
        emit(django_capture_on_commit_callbacks, workspace, "order.created", {"n": n})
    run_due()
    integration.refresh_from_db()
    assert integration.state == IntegrationState.ACTIVE
    assert DeliveryAttempt.objects.filter(ok=False).count() == 6
