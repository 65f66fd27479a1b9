"""Operations endpoints: /healthz and /metrics for machines, and the console's System page."""
from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import Error as DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from hi.workspaces.access import workspace_required

from ..engine.worker import live_worker_ids, stale_after
from ..models import Directive, DirectiveStatus
from . import metrics as hi_metrics
from .health import queue_counts, worker_rows, youngest_heartbeat_age
from .helpers import partial

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers and a worker heartbeat is recent, else 503; counts only."""
    body = {"status": "fail", "database": "error", "workers_alive": 0, "youngest_heartbeat_age_s": None, "queue_depth": None, "dead": None}
    try:
        body.update(
            database="ok",
            workers_alive=len(live_worker_ids()),
            youngest_heartbeat_age_s=youngest_heartbeat_age(),
            queue_depth=Directive.objects.filter(status=DirectiveStatus.QUEUED).count(),
            dead=Directive.objects.filter(status=DirectiveStatus.DEAD).count(),
        )
    except DatabaseError as exc:
        logger.error("Health check: the database did not answer: %s", exc)
        body.update(database="error", workers_alive=0, youngest_heartbeat_age_s=None)
        return JsonResponse(body, status=503)
    healthy = body["workers_alive"] > 0
    body["status"] = "ok" if healthy else "fail"
    return JsonResponse(body, status=200 if healthy else 503)


def _bearer_ok(request: HttpRequest, token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (compared in constant time)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


#: Why /metrics answers 403 when it has neither a token nor an explicit opening (it names every integration's id).
METRICS_CLOSED = (
    "/metrics is off: it lists every workspace's integrations. Set HI_METRICS_TOKEN and scrape with "
    "`Authorization: Bearer <token>`, or set HI_METRICS_OPEN=1 when only your monitoring network can reach hi.\n"
)


def metrics_open() -> bool:
    """Whether /metrics answers without a token: in debug, or when HI_METRICS_OPEN says so explicitly."""
    return bool(settings.DEBUG or getattr(settings, "HI_METRICS_OPEN", False))


@login_not_required
@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text: for `Authorization: Bearer <HI_METRICS_TOKEN>`; without a token, only in debug or when HI_METRICS_OPEN."""
    token = getattr(settings, "HI_METRICS_TOKEN", "")
    if token and not _bearer_ok(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="hi metrics"'
        return response
    if not token and not metrics_open():
        return HttpResponse(METRICS_CLOSED, status=403, content_type="text/plain; charset=utf-8")
    try:
        body = hi_metrics.render()
    except DatabaseError as exc:
        logger.error("Metrics: the database did not answer: %s", exc)
        return HttpResponse("The database did not answer.\n", status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


@workspace_required()
def system(request: HttpRequest) -> HttpResponse:
    """The workers alive and the queue, refreshed live."""
    rows = worker_rows()
    context = {
        "workers": rows,
        "alive": sum(1 for row in rows if row.state == "alive"),
        # Workers serve every workspace; the queue shown is this workspace's own.
        "counts": queue_counts(request.workspace),
        "stale_s": int(stale_after().total_seconds()),
    }
    return render(request, partial(request, "integrations/system.html", "system"), context)
