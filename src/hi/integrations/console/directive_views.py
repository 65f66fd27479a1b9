"""Console pages for an integration's directives: the filtered list, one directive, operator actions."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from hi.workspaces.access import workspace_required
from hi.workspaces.models import Role

from ..config.history import log
from ..config.store import secret_values
from ..core.errors import DirectiveActionRefused
from ..core.redaction import redact_data, redact_text
from ..engine import directive_actions
from ..models import Directive, DirectiveStatus, Integration
from ..models.engine import LIVE_STATUSES
from .helpers import actor_of, partial
from .queries import count_by_status, integration_for, newest_page, status_options

PAGE_SIZE = 50
MAX_ATTEMPTS_SHOWN = 200
SINCE = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "all": None}
SINCE_LABELS = {"all": "Any time", "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days"}
RETRYABLE = {DirectiveStatus.QUEUED, DirectiveStatus.FAILED, DirectiveStatus.DEAD}


@dataclass(frozen=True)
class Filters:
    """The list's filters, read from GET parameters (unknown values mean "any")."""

    status: str = ""
    topic: str = ""
    since: str = "all"

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Filters":
        """Read and validate status, topic and since."""
        status = request.GET.get("status", "")
        since = request.GET.get("since", "all")
        return cls(
            status=status if status in DirectiveStatus.values else "",
            topic=request.GET.get("topic", "").strip()[:100],
            since=since if since in SINCE else "all",
        )

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(self.status or self.topic or self.since != "all")

    def apply(self, queryset: QuerySet) -> QuerySet:
        """Narrow a directive queryset."""
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.topic:
            queryset = queryset.filter(topic=self.topic)
        if SINCE[self.since] is not None:
            queryset = queryset.filter(created_at__gte=timezone.now() - SINCE[self.since])
        return queryset


def directive_for(request: HttpRequest, integration: Integration, directive_id: int) -> Directive:
    """The integration's directive in the request's workspace, else 404."""
    return get_object_or_404(Directive, pk=directive_id, integration=integration, workspace=request.workspace)


def duration_text(ms: int | None) -> str:
    """'340 ms', '2.5 s' or '—'."""
    if ms is None:
        return "—"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def list_url(integration: Integration, **params: str) -> str:
    """The directive list, optionally filtered."""
    url = reverse("integration-directives", args=[integration.pk])
    return f"{url}?{urlencode(params)}" if params else url


@workspace_required()
def directive_list(request: HttpRequest, pk) -> HttpResponse:
    """An integration's directives, newest first, filtered and paginated; htmx gets only the table."""
    integration = integration_for(request, pk)
    filters = Filters.from_request(request)
    everything = Directive.objects.filter(integration=integration, workspace=request.workspace)
    page, query = newest_page(request, filters.apply(everything), PAGE_SIZE)
    counts = count_by_status(everything)
    topics = sorted(set(everything.values_list("topic", flat=True).order_by("topic").distinct()[:200]) | ({filters.topic} - {""}))
    context = {
        "integration": integration,
        "page": page,
        "filters": filters,
        "total": sum(counts.values()),
        "status_options": status_options(DirectiveStatus, counts),
        "topics": topics,
        "since_options": SINCE_LABELS.items(),
        "query": query,
        "now": timezone.now(),
        "retryable": [s.value for s in RETRYABLE],
    }
    return render(request, partial(request, "integrations/directives.html", "table"), context)


@workspace_required()
def directive_detail(request: HttpRequest, pk, directive_id: int) -> HttpResponse:
    """One directive: its payload (secrets redacted) and its attempts, newest first."""
    integration = integration_for(request, pk)
    directive = directive_for(request, integration, directive_id)
    secrets = secret_values(integration)
    attempts = directive.attempt_rows.order_by("-started_at", "-id")
    shown = list(attempts[:MAX_ATTEMPTS_SHOWN])
    context = {
        "integration": integration,
        "directive": directive,
        "payload": json.dumps(redact_data(directive.payload, secrets), indent=2, sort_keys=True, ensure_ascii=False),
        "last_error": redact_text(directive.last_error, secrets),
        "attempts": [{"row": a, "duration": duration_text(a.duration_ms), "error": redact_text(a.error, secrets)} for a in shown],
        "hidden_attempts": attempts.count() - len(shown) if len(shown) == MAX_ATTEMPTS_SHOWN else 0,
        "replays": directive.replays.order_by("-created_at")[:20],
        "live": directive.status in LIVE_STATUSES,
        "now": timezone.now(),
        "retryable": [s.value for s in RETRYABLE],
    }
    return render(request, partial(request, "integrations/directives.html", "detail"), context)


def _retry(directive: Directive) -> str:
    """Retry now and describe it."""
    directive_actions.retry_now(directive)
    return f"Directive #{directive.pk} will run again as soon as a worker is free."


def _replay(directive: Directive) -> str:
    """Replay and describe it."""
    replayed = directive_actions.replay(directive)
    return f"Directive #{directive.pk} was replayed as #{replayed.pk}."


def _cancel(directive: Directive) -> str:
    """Cancel and describe it."""
    directive_actions.cancel(directive)
    return f"Directive #{directive.pk} was cancelled; it will not run again."


ACTIONS: dict[str, tuple[Callable[[Directive], str], str]] = {
    "retry": (_retry, "retried"),
    "replay": (_replay, "replayed"),
    "cancel": (_cancel, "cancelled"),
}


def _back(request: HttpRequest, integration: Integration) -> str:
    """Where to go after an action: the page it came from when that is ours, else the list."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return list_url(integration)


@require_POST
@workspace_required(Role.OPERATOR)
def directive_action(request: HttpRequest, pk, directive_id: int, action: str) -> HttpResponse:
    """Retry now, replay or cancel one directive; a refused action is a message, not an error page."""
    if action not in ACTIONS:
        raise Http404("No such directive action.")
    integration = integration_for(request, pk)
    directive = directive_for(request, integration, directive_id)
    run, verb = ACTIONS[action]
    try:
        text = run(directive)
    except DirectiveActionRefused as exc:
        messages.error(request, f"Directive #{directive.pk}: {exc}")
    else:
        log(integration, "info", f"{actor_of(request)} {verb} directive #{directive.pk} ({directive.topic}).")
        messages.success(request, text)
    return redirect(_back(request, integration))
