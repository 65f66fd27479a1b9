"""What the iFood pane on the manage page shows: merchants' status, polling, acknowledgments, webhooks."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from hi.integrations.api import Integration, display_values, receive_url

from . import jobs
from .client import parse_merchants
from .models import state_of


def merchant_rows(merchant_ids: list[str], statuses: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per merchant and operation: state, availability, and the validations that are not OK."""
    rows = []
    for merchant in merchant_ids:
        operations = statuses.get(merchant) or []
        if not operations:
            rows.append({"merchant": merchant, "operation": "", "state": "UNKNOWN", "available": None, "problems": [], "message": ""})
        for op in operations:
            message = op.get("message") or {}
            problems = [
                {"code": v.get("code", ""), "state": v.get("state", ""), "title": (v.get("message") or {}).get("title", "")}
                for v in op.get("validations") or [] if isinstance(v, dict) and v.get("state") != "OK"
            ]
            rows.append({
                "merchant": merchant,
                "operation": op.get("operation", ""),
                "state": str(op.get("state") or "UNKNOWN").upper(),
                "available": op.get("available"),
                "problems": problems,
                "message": message.get("title", "") if isinstance(message, dict) else "",
            })
    return rows


def pane_context(integration: Integration) -> dict[str, Any]:
    """The pane's (and the diagnostics') values; never the client secret."""
    shown = display_values(integration)
    state = state_of(integration)
    merchant_ids = parse_merchants(shown.get("merchant_ids") or "")
    since = timezone.now() - timedelta(hours=1)
    return {
        "integration": integration,
        "merchant_ids": merchant_ids,
        "event_mode": shown.get("event_mode") or "polling",
        "api_base_url": shown.get("api_base_url") or "",
        "events_prefix": shown.get("events_prefix") or "/events/v1.0",
        "state": state,
        "merchants": merchant_rows(merchant_ids, state.merchant_status or {}),
        "events_last_hour": integration.inbound_events.filter(received_at__gte=since)
        .exclude(event_type="KEEPALIVE").exclude(status="rejected").exclude(status="duplicate").count(),
        "failed_last_day": integration.inbound_events
        .filter(status="failed", received_at__gte=timezone.now() - timedelta(hours=24)).count(),
        "orders": integration.orders.count(),
        "receive_url": receive_url(integration),
        "now": timezone.now(),
        "poll_interval_s": jobs.poll_interval_s(),
    }
