"""The provider call log: one row per HTTP attempt, URLs with secrets removed, bounded retention."""
from __future__ import annotations

import logging
import re
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from urllib3.util.retry import RequestHistory

from ..core.errors import ProviderTimeout, ProviderUnavailable, error_class_for
from ..core.redaction import REDACTED, redact_text
from ..models import ProviderCall
from .transport import is_timeout

logger = logging.getLogger(__name__)
#: Query parameters whose values never reach the call log (matched on the name and its parts).
SENSITIVE_PARAMS = frozenset("token key apikey secret signature sig password passwd pwd auth authorization code session".split())


def _sensitive(name: str) -> bool:
    """Whether a query parameter's name says it carries a credential."""
    name = unquote_plus(name).lower()
    return name in SENSITIVE_PARAMS or any(part in SENSITIVE_PARAMS for part in re.split(r"[^a-z0-9]+", name))


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """`url` without userinfo or fragment, with sensitive query values and known secrets replaced."""
    parts = urlsplit(url)
    pairs = []
    for pair in parts.query.split("&") if parts.query else ():
        name, eq, value = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if eq and value and _sensitive(name) else pair)
    clean = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "&".join(pairs), ""))
    # redact_text matches the percent- and form-encoded forms a URL carries a secret in.
    return redact_text(clean, secrets)


class CallLog:
    """Writes one ProviderCall row per HTTP attempt of one client call (retries and the 401 re-send included)."""

    def __init__(self, integration: Any, method: str) -> None:
        """The log of one logical call: no attempt yet, its clock started."""
        self.integration, self.method, self.attempts = integration, method, 0
        self.started_at, self.started = timezone.now(), time.monotonic()

    def begin(self) -> None:
        """A request is about to go out (urllib3 may make several attempts of it)."""
        self.started_at, self.started = timezone.now(), time.monotonic()

    def record(self, url: str, retries: Any, status: int | None, error_class: str, secrets: list[str]) -> None:
        """Rows for the attempts urllib3 retried (from `retries.history`) and for the last one."""
        if self.integration is None:
            return
        clean = redact_url(url, secrets)[:2000]
        rows = []

        def row(at: datetime, status: int | None, duration_ms: int | None, error_class: str) -> ProviderCall:
            """One attempt's ProviderCall row, numbered."""
            self.attempts += 1
            return ProviderCall(
                workspace_id=self.integration.workspace_id, integration=self.integration, at=at, method=self.method,
                url=clean, status=status, duration_ms=duration_ms, error_class=error_class, attempt=self.attempts,
            )  # fmt: skip

        earlier: tuple[RequestHistory, ...] = getattr(retries, "history", ()) or ()
        for past in earlier:
            # urllib3 keeps what each retried attempt got, not when or how long: duration unknown.
            kind = (ProviderTimeout if is_timeout(past.error) else ProviderUnavailable) if past.error else None
            kind = kind or error_class_for(past.status)
            rows.append(row(self.started_at, past.status, None, kind.__name__ if kind else ""))
        resumed = getattr(retries, "resumed_at", None) if earlier else None
        begin = resumed if resumed is not None else self.started
        at = self.started_at + timedelta(seconds=begin - self.started)
        rows.append(row(at, status, round((time.monotonic() - begin) * 1000), error_class))
        pending = getattr(_deferred, "rows", None)
        if pending is not None:
            pending.extend(rows)  # written with the caller's own outcome (see deferred_call_log)
            return
        write_call_rows(rows)


_deferred = threading.local()


def write_call_rows(rows: list[ProviderCall]) -> None:
    """Insert call-log rows; a failure to log never turns the call itself into a failure."""
    if not rows:
        return
    try:
        with transaction.atomic():
            ProviderCall.objects.bulk_create(rows)
    except DatabaseError:
        logger.warning("Could not record %d provider call(s)", len(rows), exc_info=True)


@contextmanager
def deferred_call_log() -> Iterator[list[ProviderCall]]:
    """Collect this thread's call-log rows instead of writing each at once."""
    # The caller writes them (with `write_call_rows`) in the same transaction as its own outcome: one commit, not two.
    previous = getattr(_deferred, "rows", None)
    _deferred.rows = rows = []
    try:
        yield rows
    finally:
        _deferred.rows = previous


def call_log_days() -> int:
    """How many days of provider calls to keep."""
    return int(getattr(settings, "HI_CALL_LOG_DAYS", 7))


def prune_calls(older_than: timedelta | None = None) -> int:
    """Delete call-log rows older than `older_than` (default: HI_CALL_LOG_DAYS days); return how many."""
    cutoff = timezone.now() - (older_than if older_than is not None else timedelta(days=call_log_days()))
    deleted, _ = ProviderCall.objects.filter(at__lt=cutoff).delete()
    return deleted
