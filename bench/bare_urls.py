"""Bench-only URL conf: hi's URLs, plus a bare Standard Webhooks receiver that only verifies and inserts."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hi.integrations.models import InboundEvent

# The bare side knows its key and its row's owner from the environment (set by bench/inbound.py):
# no integration lookup, no attribute decryption, no dedupe query: the floor hi is compared with.
KEY = base64.b64decode(os.environ["HI_BENCH_SECRET"].removeprefix("whsec_"))
WORKSPACE_ID = int(os.environ["HI_BENCH_BARE_WORKSPACE"])
INTEGRATION_ID = os.environ["HI_BENCH_BARE_INTEGRATION"]
TOLERANCE_S = 300


@csrf_exempt
@login_not_required
@require_POST
def bare_hook(request: HttpRequest) -> HttpResponse:
    """Check the v1 HMAC over "id.timestamp.body" in constant time, insert one row, answer 202."""
    body = request.body
    msg_id = request.headers.get("webhook-id", "")
    stamp = request.headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_S:
        return JsonResponse({"error": "bad headers"}, status=401)
    expected = base64.b64encode(hmac.new(KEY, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    given = [entry.partition(",")[2].encode() for entry in request.headers.get("webhook-signature", "").split()]
    if not any(hmac.compare_digest(signature, expected) for signature in given):
        return JsonResponse({"error": "bad signature"}, status=401)
    row = InboundEvent.objects.create(
        workspace_id=WORKSPACE_ID,
        integration_id=INTEGRATION_ID,
        status=InboundEvent.Status.PROCESSED,  # nothing more happens to it: the worker's pass skips it
        http_status=202,
        provider_event_id=msg_id,
        body=body.decode("utf-8", errors="backslashreplace"),
        body_size=len(body),
    )
    return JsonResponse({"id": str(row.pk)}, status=202)


urlpatterns = [
    path("bench/bare-hook/", bare_hook, name="bench-bare-hook"),
    path("", include("hi.urls")),
]
handler404 = "hi.views.page_not_found"
handler500 = "hi.views.server_error"
handler403 = "hi.views.permission_denied"
