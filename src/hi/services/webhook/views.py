"""The webhook service's pages: send a test event, rotate the secret, the delivery log, resend and recover."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hi.integrations.api import (
    LIVE_STATUSES,
    Directive,
    Integration,
    IntegrationState,
    actor_of,
    count_by_status,
    integration_for,
    log,
    newest_page,
    partial,
    status_options,
)
from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from . import deliveries, rotation
from .client import wire_timestamp
from .handlers import TEST_EVENT_TYPE, queue_test_delivery, test_events
from .models import Delivery

PAGE_SIZE = 50
MAX_ATTEMPTS_SHOWN = 100


def endpoint_for(request: HttpRequest, pk) -> Integration:
    """The request workspace's webhook integration, else 404."""
    integration = integration_for(request, pk)
    if integration.integration_type != "webhook":
        raise Http404("Not a webhook endpoint.")
    return integration


@require_POST
@workspace_required(Role.OPERATOR)
def send_test_event(request: HttpRequest, pk) -> HttpResponse:
    """Queue a test delivery (webhook.test, or a catalogued type with its example data); the delivery log shows how it went."""
    integration = endpoint_for(request, pk)
    if integration.state != IntegrationState.ACTIVE:
        messages.error(request, "Activate the endpoint first: deliveries wait while it is not active.")
        return redirect(integration)
    event_type = request.POST.get("type") or TEST_EVENT_TYPE
    if event_type not in test_events():
        messages.error(request, "Choose one of the listed event types.")
        return redirect(integration)
    delivery = queue_test_delivery(integration, event_type)
    messages.success(request, f"Test event queued ({event_type}); the worker sends it. Its attempts appear below.")
    return redirect("webhook-delivery", integration.pk, delivery.pk)


@require_POST
@workspace_required(Role.OPERATOR)
def rotate_secret(request: HttpRequest, pk) -> HttpResponse:
    """Replace the signing secret and show the new one once; the old one keeps signing for 24 h."""
    integration = endpoint_for(request, pk)
    secret = rotation.rotate(integration, actor_of(request))
    ends = rotation.overlap_ends(integration)
    response = render(request, "webhook/rotated.html", {"integration": integration, "secret": secret, "overlap_ends": ends})
    response["Cache-Control"] = "no-store"
    return response


def _filters(request: HttpRequest) -> dict:
    """The log's filters from GET (unknown values mean "any")."""
    status = request.GET.get("status", "")
    event_type = request.GET.get("type", "").strip()[:100]
    return {"status": status if status in Delivery.Status.values else "", "type": event_type}


@workspace_required()
def delivery_list(request: HttpRequest, pk) -> HttpResponse:
    """The endpoint's deliveries, newest first, filtered by status and event type; htmx gets only the table."""
    integration = endpoint_for(request, pk)
    everything = Delivery.objects.filter(integration=integration, workspace=request.workspace)
    filters = _filters(request)
    shown = everything
    if filters["status"]:
        shown = shown.filter(status=filters["status"])
    if filters["type"]:
        shown = shown.filter(event_type=filters["type"])
    page, query = newest_page(request, shown, PAGE_SIZE)
    counts = count_by_status(everything)
    types = sorted(
        set(everything.values_list("event_type", flat=True).order_by("event_type").distinct()[:200]) | ({filters["type"]} - {""})
    )
    context = {
        "integration": integration,
        "page": page,
        "filters": filters,
        "filtered": bool(filters["status"] or filters["type"]),
        "total": sum(counts.values()),
        "status_options": status_options(Delivery.Status, counts),
        "types": types,
        "query": query,
        # Pings are never recovered.
        "recoverable": everything.filter(
            status__in=[Delivery.Status.FAILED, Delivery.Status.SKIPPED]
        ).exclude(kind=Delivery.Kind.PING).count(),
        "default_since": (timezone.localtime() - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, partial(request, "webhook/deliveries.html", "table"), context)


@workspace_required()
def delivery_detail(request: HttpRequest, pk, delivery_id: int) -> HttpResponse:
    """One delivery: the event sent, and each attempt's request (secrets redacted), answer and latency."""
    integration = endpoint_for(request, pk)
    delivery = get_object_or_404(Delivery, pk=delivery_id, integration=integration, workspace=request.workspace)
    attempts = list(delivery.attempt_log.order_by("-at", "-id")[:MAX_ATTEMPTS_SHOWN])
    live = delivery.status == Delivery.Status.PENDING and Directive.objects.filter(
        pk=delivery.directive_id, status__in=LIVE_STATUSES
    ).exists()
    context = {
        "integration": integration,
        "delivery": delivery,
        "body": json.dumps(
            {"type": delivery.event_type, "timestamp": wire_timestamp(delivery.timestamp), "data": delivery.data}, indent=2,
            ensure_ascii=False
        ),
        "attempts": [{"row": a, "headers": sorted(a.request_headers.items())} for a in attempts],
        "live": live,
        # Cancelled from the Directives page: pending with nothing left to send it.
        "orphaned": delivery.status == Delivery.Status.PENDING and not live,
    }
    return render(request, partial(request, "webhook/delivery.html", "detail"), context)


@require_POST
@workspace_required(Role.OPERATOR)
def resend(request: HttpRequest, pk, delivery_id: int) -> HttpResponse:
    """Send one delivery again (same webhook-id and body)."""
    integration = endpoint_for(request, pk)
    delivery = get_object_or_404(Delivery, pk=delivery_id, integration=integration, workspace=request.workspace)
    try:
        deliveries.resend(delivery)
    except deliveries.ResendRefused as exc:
        messages.error(request, f"Not resent: {exc}.")
    else:
        log(integration, "info", f"{actor_of(request)} resent delivery #{delivery.pk} ({delivery.event_type}).")
        messages.success(request, f"Delivery #{delivery.pk} queued again{_waiting_note(integration)}.")
    return redirect("webhook-delivery", integration.pk, delivery.pk)


def _since(request: HttpRequest) -> datetime | None:
    """The recovery form's start time, a local date and time; None when invalid."""
    try:
        parsed = datetime.strptime(request.POST.get("since_at", "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return timezone.make_aware(parsed, timezone.get_current_timezone())


@require_POST
@workspace_required(Role.OPERATOR)
def recover(request: HttpRequest, pk) -> HttpResponse:
    """Resend every failed or skipped delivery since a chosen time."""
    integration = endpoint_for(request, pk)
    since = _since(request)
    if since is None:
        messages.error(request, "Choose when to recover from: a date and time like 2026-12-03T09:30.")
    elif since > timezone.now():
        messages.error(request, "That time is in the future: nothing to recover yet.")
    else:
        count = deliveries.recover(integration, since)
        when = timezone.localtime(since).strftime("%Y-%m-%d %H:%M")
        if count:
            log(integration, "info", f"{actor_of(request)} recovered {count} failed or skipped deliveries since {when}.")
            messages.success(
                request,
                f"{count} failed or skipped deliver{'y' if count == 1 else 'ies'} since {when} queued again{_waiting_note(integration)}."
            )
        else:
            messages.info(request, f"No failed or skipped delivery since {when}: nothing to recover.")
    return redirect(reverse("webhook-deliveries", args=[integration.pk]))


def _waiting_note(integration: Integration) -> str:
    """What the operator should know when the endpoint cannot send yet."""
    if integration.state == IntegrationState.ACTIVE:
        return ""
    return "; it is sent once the endpoint is active again"
