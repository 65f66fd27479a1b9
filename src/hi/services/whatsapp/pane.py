"""What the WhatsApp pane on the manage page shows: the number, its quality, the last 24 hours of messages, templates."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from hi.integrations.api import Integration, build_chart, display_values, hourly, receive_url
from hi.messaging.models import Direction, Message, MessageStatus

from .message_templates import templates_of
from .models import phone_of

S = MessageStatus
WINDOW = timedelta(hours=24)
REACHED = Q(status__in=[S.SENT, S.DELIVERED, S.READ])
FAILED = Q(status=S.FAILED)


def message_counts(integration: Integration, since) -> dict[str, int]:
    """Messages hi sent through the integration since `since`, by status (every status present)."""
    rows = Message.objects.filter(
        integration=integration, direction=Direction.OUT, created_at__gte=since
    ).values("status").annotate(n=Count("pk")).order_by()
    counts = {s: 0 for s in (S.QUEUED, S.UNCERTAIN, S.SENT, S.DELIVERED, S.READ, S.FAILED)}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def failure_reasons(integration: Integration, since, limit: int = 5) -> list[dict[str, Any]]:
    """The most frequent failure reasons since `since`: code, title and how many."""
    rows = (
        Message.objects.filter(integration=integration, direction=Direction.OUT, status=S.FAILED, created_at__gte=since)
        .values("error_code", "error_title").annotate(n=Count("pk")).order_by("-n")[:limit]
    )
    return [{"code": r["error_code"], "title": r["error_title"], "count": r["n"]} for r in rows]


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane's values; never a secret."""
    now = timezone.now()
    since = now - WINDOW
    shown = display_values(integration)
    sent = Message.objects.filter(integration=integration, direction=Direction.OUT)
    chart = build_chart(f"messages-{integration.pk}", "Messages sent per hour, last 24 hours", "messages",
                        hourly(sent, "created_at", REACHED, FAILED, now))
    templates = templates_of(integration)
    return {
        "integration": integration,
        "phone": phone_of(integration),
        "counts": message_counts(integration, since),
        "received": Message.objects.filter(integration=integration, direction=Direction.IN, created_at__gte=since).count(),
        "reasons": failure_reasons(integration, since),
        "chart": chart,
        "templates": templates,
        "approved": sum(1 for t in templates if t.data.get("status") == "APPROVED"),
        "notifications": shown.get("notifications") or "",
        "api_version": shown.get("api_version") or "",
        "api_base_url": shown.get("api_base_url") or "",
        "receive_url": receive_url(integration),
        "notifications_last_hour": integration.inbound_events.filter(
            event_type="notification", received_at__gte=now - timedelta(hours=1)
        ).exclude(status="rejected").count(),
        "failed_items": integration.inbound_events.filter(status="failed", received_at__gte=since).count(),
    }


def diagnostics(integration: Integration) -> dict[str, Any]:
    """The diagnostics' service section: the number, message counts, templates, notifications (no secret)."""
    context = pane_context(integration)
    phone = context["phone"]
    return {
        "display_phone_number": phone.display_phone_number,
        "verified_name": phone.verified_name,
        "quality_rating": phone.quality_rating,
        "phone_checked_at": phone.checked_at.isoformat() if phone.checked_at else None,
        "phone_error": phone.last_error,
        "messages_last_24h": context["counts"],
        "received_last_24h": context["received"],
        "failure_reasons": context["reasons"],
        "templates": [
            {"name": t.data.get("name"), "language": t.data.get("language"), "status": t.data.get("status")} for t in context["templates"]
        ],
        "notifications": context["notifications"],
        "api_version": context["api_version"],
        "notifications_last_hour": context["notifications_last_hour"],
        "failed_items_last_24h": context["failed_items"],
    }
