"""Deliveries: created per event and endpoint, each attempt logged, resent on request, pruned when old."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from hi.integrations.api import (
    LIVE_STATUSES,
    REDACTED,
    Directive,
    Event,
    Integration,
    IntegrationState,
    enqueue,
    redact_text,
    standard_webhooks,
)

from .client import wire_timestamp
from .models import Delivery, DeliveryAttempt

Status = Delivery.Status
Kind = Delivery.Kind
TOPIC_DELIVER = "webhook.deliver"
#: Longest request and response body kept per attempt (the delivery itself keeps the whole event).
MAX_BODY_LOGGED = 4096
#: Never stored in the attempt log, like the values of the operator's extra headers (secret).
SIGNATURE_HEADER = "webhook-signature"
#: The newest pings kept per endpoint in the delivery log.
MAX_PINGS_KEPT = 50
#: States in which an endpoint takes events: active, or being activated (they go out once it is active).
SENDING_STATES = (IntegrationState.ACTIVE, IntegrationState.ACTIVATING)


class ResendRefused(Exception):
    """A resend that cannot happen now (the delivery is already on its way)."""


def create(
    integration: Integration, event_type: str, timestamp: str, data, event: Event | None = None, status: str = Status.PENDING,
    reason: str = "", kind: str = Kind.EVENT,
) -> Delivery:
    """Record a delivery and, when pending, queue the directive that sends it (in the caller's transaction)."""
    delivery = Delivery.objects.create(
        workspace_id=integration.workspace_id, integration=integration, event=event, event_type=event_type, kind=kind,
        message_id=standard_webhooks.new_message_id(), timestamp=timestamp, data=data, status=status, reason=reason,
        finished_at=timezone.now() if status == Status.SKIPPED else None,
    )
    if status == Status.PENDING:
        _queue(delivery)
    return delivery


def _queue(delivery: Delivery) -> Directive:
    """Queue the directive that sends this delivery (one live directive per delivery)."""
    directive = enqueue(delivery.integration, TOPIC_DELIVER, {"delivery": delivery.pk}, dedupe_key=f"delivery:{delivery.pk}")
    Delivery.objects.filter(pk=delivery.pk).update(directive=directive)
    delivery.directive = directive
    return directive


def for_event(event: Event, integration: Integration, skip_reason: str = "") -> Delivery | None:
    """The delivery of an event to an endpoint: pending when the endpoint is active, else (or with a `skip_reason`) skipped."""
    # A skipped delivery is kept, so the delivery log says why nothing was sent.
    timestamp = wire_timestamp(event.created_at)
    if skip_reason:
        status, reason = Status.SKIPPED, skip_reason
    elif integration.state in SENDING_STATES:
        status, reason = Status.PENDING, ""
    else:
        label = IntegrationState(integration.state).label.lower()
        status, reason = Status.SKIPPED, f"The endpoint was {label} when the event happened."
    try:
        with transaction.atomic():  # a savepoint: the event may already have its delivery (a re-dispatch)
            return create(integration, event.type, timestamp, event.data, event=event, status=status, reason=reason)
    except IntegrityError:
        return None


def redacted_headers(headers: dict[str, str], extra_names) -> dict[str, str]:
    """The request headers as logged: the signature and the operator's extra header values replaced."""
    hidden = {name.lower() for name in extra_names} | {SIGNATURE_HEADER}
    return {name: REDACTED if name.lower() in hidden else value for name, value in headers.items()}


def record_attempt(
    delivery: Delivery, url: str, headers: dict[str, str], body: bytes, *, ok: bool,
    status_code: int | None = None, response_body: str = "", latency_ms: int | None = None, error: str = "",
    secrets: Sequence[str] = (),
) -> DeliveryAttempt:
    """Log one POST of the delivery and move its counters (headers must already be redacted)."""
    # A receiver may echo what it got: the answer and the error are kept with `secrets` (the signing
    # secrets and the extra header values sent) redacted in any encoding, cut only after redacting.
    now = timezone.now()
    answer = redact_text((response_body or "")[: MAX_BODY_LOGGED * 2], secrets)[:MAX_BODY_LOGGED]
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery, integration_id=delivery.integration_id, at=now, number=delivery.attempts + 1, url=url,
        request_headers=headers, request_body=body[:MAX_BODY_LOGGED].decode("utf-8", errors="replace"),
        status_code=status_code, response_body=answer, latency_ms=latency_ms,
        ok=ok, error=redact_text(error, secrets)[:2000],
    )
    delivery.attempts += 1
    delivery.last_status_code = status_code
    fields = ["attempts", "last_status_code"]
    if ok:
        delivery.status, delivery.reason, delivery.finished_at = Status.DELIVERED, "", now
        fields += ["status", "reason", "finished_at"]
    Delivery.objects.filter(pk=delivery.pk).update(**{name: getattr(delivery, name) for name in fields})
    return attempt


@transaction.atomic
def record_ping(integration: Integration, ping: dict, purpose: str) -> Delivery:
    """Log a ping (a Ping's details) in the delivery log with its one attempt; `purpose` says what sent it ("Activation")."""
    now = timezone.now()
    ok = bool(ping.get("ok"))
    reason = purpose if ok else f"{purpose}: {ping.get('error') or 'no answer'}"
    delivery = Delivery.objects.create(
        workspace_id=integration.workspace_id, integration=integration, event_type="ping", kind=Kind.PING,
        message_id=ping["message_id"], timestamp=ping["timestamp"], data={}, status=Status.DELIVERED if ok else Status.FAILED,
        reason=reason[:2000], created_at=now, finished_at=now,
    )
    # Pings were redacted when made (headers) or are set-up's short refusal (answer): logged as they are.
    if ping.get("status_code") is not None or ping.get("error"):
        record_attempt(
            delivery, ping["url"], ping.get("headers") or {}, str(ping.get("body") or "").encode(), ok=ok,
            status_code=ping.get("status_code"), response_body=ping.get("answer") or "", latency_ms=ping.get("latency_ms"),
            error=ping.get("error") or "",
        )
        # What sent it stays its reason (a delivered attempt clears a delivery's reason).
        Delivery.objects.filter(pk=delivery.pk).update(reason=reason[:2000])
        delivery.reason = reason[:2000]
    # Set-up retries ping again and again while a receiver is down (and pruning waits for an active endpoint).
    older = Delivery.objects.filter(integration=integration, kind=Kind.PING).order_by("-created_at", "-id")[MAX_PINGS_KEPT:]
    Delivery.objects.filter(pk__in=list(older.values_list("pk", flat=True))).delete()
    return delivery


def finish_failed(delivery: Delivery, reason: str) -> None:
    """The delivery gave up (schedule exhausted, 410, refused URL): failed, with why."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, reason=reason[:2000], finished_at=now)
    delivery.status, delivery.reason, delivery.finished_at = Status.FAILED, reason, now


def note(delivery: Delivery, reason: str) -> None:
    """Say why a pending delivery is waiting (a retry, an open breaker)."""
    Delivery.objects.filter(pk=delivery.pk).update(reason=reason[:2000])


def _requeue(delivery: Delivery, reason: str) -> Directive:
    """Make a finished delivery pending again and queue its directive (same webhook-id and body)."""
    delivery.status, delivery.reason, delivery.finished_at = Status.PENDING, reason, None
    delivery.save(update_fields=["status", "reason", "finished_at"])
    return _queue(delivery)


@transaction.atomic
def resend(delivery: Delivery) -> Directive:
    """Send a finished delivery again, with the same webhook-id and body; its attempt log continues."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.kind == Kind.PING:
        raise ResendRefused("a ping is not resent; use Test connection to send a new one")
    if locked.status == Status.PENDING and locked.directive_id and Directive.objects.filter(
        pk=locked.directive_id, status__in=LIVE_STATUSES
    ).exists():
        raise ResendRefused("it is already queued to be sent")
    return _requeue(locked, "Resent.")


@transaction.atomic
def recover(integration: Integration, since: datetime) -> int:
    """Resend every failed or skipped delivery of the endpoint created since `since`; return how many."""
    found = list(
        Delivery.objects.select_for_update()
        .filter(integration=integration, created_at__gte=since, status__in=[Status.FAILED, Status.SKIPPED])
        .exclude(kind=Kind.PING)
        .order_by("created_at", "id")
    )
    for delivery in found:
        _requeue(delivery, "Recovered.")
    return len(found)


def failure_stats(integration: Integration) -> dict:
    """Attempts and failures over the auto-disable window, and when the oldest failure in it happened."""
    since = timezone.now() - timedelta(seconds=settings.HI_WEBHOOK_DISABLE_WINDOW_S)
    # Set-up pings are the operator trying things out, not the endpoint failing deliveries.
    attempts = DeliveryAttempt.objects.filter(integration=integration, at__gte=since).exclude(delivery__kind=Kind.PING)
    return attempts.aggregate(
        total=Count("id"), failed=Count("id", filter=Q(ok=False)), first_failure=Min("at", filter=Q(ok=False)),
    )


def disable_reason(integration: Integration) -> str:
    """Why the endpoint should be disabled now ('' while its error rate is tolerable)."""
    stats = failure_stats(integration)
    total, failed, first = stats["total"], stats["failed"], stats["first_failure"]
    if total < settings.HI_WEBHOOK_DISABLE_MIN_ATTEMPTS or not failed:
        return ""
    rate = failed / total
    if rate < settings.HI_WEBHOOK_DISABLE_ERROR_RATE:
        return ""
    if first > timezone.now() - timedelta(seconds=settings.HI_WEBHOOK_DISABLE_MIN_SPAN_S):
        return ""
    return (
        f"Disabled automatically: {failed} of {total} delivery attempts in the last "
        f"{_duration(settings.HI_WEBHOOK_DISABLE_WINDOW_S)} failed ({rate:.0%}). "
        "Fix the receiver, then Activate; events that arrive meanwhile are kept as skipped and can be recovered "
        "from the delivery log."
    )


def _duration(seconds: float) -> str:
    """'24 h', '30 min' or '45 s'."""
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def sent(integration: Integration):
    """The endpoint's deliveries of events and test events (its pings are in the log, not in the counts)."""
    return integration.webhook_deliveries.exclude(kind=Delivery.Kind.PING)


def disable_rule() -> str:
    """The auto-disable rule in words, for the pane and the docs."""
    return (
        f"at least {settings.HI_WEBHOOK_DISABLE_ERROR_RATE:.0%} of at least {settings.HI_WEBHOOK_DISABLE_MIN_ATTEMPTS} attempts "
        f"failed over the last {_duration(settings.HI_WEBHOOK_DISABLE_WINDOW_S)}, "
        f"failing for {_duration(settings.HI_WEBHOOK_DISABLE_MIN_SPAN_S)} or more"
    )


def prune(integration: Integration) -> int:
    """Delete the endpoint's finished deliveries older than HI_RETENTION_DAYS; return how many."""
    cutoff = timezone.now() - timedelta(days=getattr(settings, "HI_RETENTION_DAYS", 30))
    old = Delivery.objects.filter(integration=integration, created_at__lt=cutoff).exclude(status=Status.PENDING)
    return old.delete()[0]
