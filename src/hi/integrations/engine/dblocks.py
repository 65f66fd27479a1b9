"""A bounded wait for database locks, and a 503 with Retry-After (not a 500) when the bound is reached."""
# A web request that waits for a lock longer than the WSGI server's timeout is killed mid-request: the
# client sees a dropped connection, and a provider may not retry. So every connection waits at most
# HI_DB_LOCK_WAIT_S for a lock (SQLite's busy timeout, PostgreSQL's lock_timeout), and a request that
# hits the bound is answered 503 + Retry-After: providers retry, operators read a page that says so.
# The worker, which nobody waits on, waits longer (HI_WORKER_DB_LOCK_WAIT_S, set by hi_worker).
from __future__ import annotations

import logging
import re
from typing import Any, Callable

from django.conf import settings
from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_S = 10
#: What a provider is told (the same words as for any other temporary failure).
UNAVAILABLE = "temporarily unavailable, try again later"
# SQLite says so in words; PostgreSQL with SQLSTATEs: lock_not_available, query_canceled (statement_timeout).
_SQLITE_MESSAGES = ("database is locked", "database table is locked")
_PG_STATES = frozenset({"55P03", "57014"})
_LOCK_TIMEOUT = re.compile(r"-c\s*lock_timeout=\S+")


def bound_options(engine: str, options: dict[str, Any], wait_s: float) -> dict[str, Any]:
    """`options` (a DATABASES OPTIONS dict) with the wait for a lock bounded to `wait_s` seconds."""
    if engine.endswith("sqlite3"):
        return {**options, "timeout": wait_s}
    if engine.endswith("postgresql"):
        others = _LOCK_TIMEOUT.sub("", options.get("options", "")).strip()
        return {**options, "options": f"{others} -c lock_timeout={max(1, int(wait_s * 1000))}".strip()}
    return options


def set_lock_wait(wait_s: float, alias: str = "default") -> None:
    """Make this process's connections (open ones are closed) wait at most `wait_s` for a lock."""
    for database in (settings.DATABASES[alias], connections[alias].settings_dict):
        database["OPTIONS"] = bound_options(database["ENGINE"], database.get("OPTIONS", {}), wait_s)
    connections[alias].close()


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether `exc` is a database giving up on a lock (or a statement) after the bounded wait."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in _PG_STATES:
        return True
    return any(message in str(exc).lower() for message in _SQLITE_MESSAGES)


def busy_response(request: HttpRequest, provider: bool) -> HttpResponse:
    """503 + Retry-After: JSON for a provider endpoint, a page for the console."""
    if provider:
        response: HttpResponse = JsonResponse({"error": UNAVAILABLE}, status=503)
    else:
        # Rendered without context processors: they would query the busy database again.
        response = HttpResponse(render_to_string("errors/busy.html", {"retry_after_s": RETRY_AFTER_S}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


class DatabaseBusyMiddleware:
    """Turn a lock timeout anywhere in a view into 503 + Retry-After instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the next handler in the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Only lock timeouts are handled here; anything else goes on to Django."""
        if not is_lock_timeout(exception):
            return None
        logger.warning("%s %s: the database stayed locked past HI_DB_LOCK_WAIT_S; answered 503.", request.method, request.path)
        match = getattr(request, "resolver_match", None)
        provider = bool(getattr(getattr(match, "func", None), "hi_provider_endpoint", False))
        return busy_response(request, provider)
