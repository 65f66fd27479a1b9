"""Running directives: claim once, run at least once, retry on a schedule, record every attempt; put back what stopped workers held."""
from __future__ import annotations

import logging
import time
import traceback
from datetime import timedelta
from typing import Any, Callable, Collection, Iterable

from django.core.exceptions import ValidationError
from django.db import DataError, connection, transaction
from django.db.models import F
from django.utils import timezone

from ..config.history import failure_text
from ..config.lifecycle import mark_auth_failed
from ..config.store import secret_values
from ..contract.declarations import DirectiveHandler
from ..core.errors import BreakerOpen, DirectiveFailed, DirectiveRetry, ProviderAuthError, ProviderError, ProviderRejected
from ..core.redaction import redact_text
from ..models import Directive, DirectiveAttempt, DirectiveStatus, Integration, IntegrationState
from ..outbound.breakers import open_breakers
from ..outbound.calllog import deferred_call_log, write_call_rows
from ..outbox.directives import handlers

logger = logging.getLogger(__name__)
Outcome = DirectiveAttempt.Outcome

MAX_ERROR = 2000


def claimable(now) -> Any:
    """Queued, due directives of active integrations whose breaker is not open."""
    return (
        Directive.objects.filter(status=DirectiveStatus.QUEUED, next_run_at__lte=now)
        .filter(integration__state=IntegrationState.ACTIVE)
        .exclude(integration_id__in=open_breakers(now))
        .order_by("next_run_at", "id")
    )


def _lockable(candidates: Any) -> Any:
    """Candidates to claim, skipping rows another worker is claiming (PostgreSQL)."""
    # SQLite has no row locks: the claim's transaction holds the database's write lock from its
    # first statement (transaction_mode IMMEDIATE), so claims are serialised.
    if connection.features.has_select_for_update_skip_locked:
        return candidates.select_for_update(skip_locked=True, of=("self",))
    return candidates


def _take(ids: list[int], worker_id: str, now) -> None:
    """Mark the chosen directives running for this worker (inside the claim's transaction)."""
    Directive.objects.filter(id__in=ids, status=DirectiveStatus.QUEUED).update(
        status=DirectiveStatus.RUNNING, claimed_by=worker_id, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )


def _claimed(ids: list[int], worker_id: str) -> list[Directive]:
    """The directives this worker holds among `ids`, oldest due first."""
    if not ids:
        return []
    return list(
        Directive.objects.filter(id__in=ids, claimed_by=worker_id, status=DirectiveStatus.RUNNING)
        .select_related("integration").order_by("next_run_at", "id")
    )


def claim(worker_id: str, limit: int = 10) -> list[Directive]:
    """Take up to `limit` due directives for this worker; no two workers take the same one."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(_lockable(claimable(now)).values_list("id", flat=True)[:limit])
        if ids:
            _take(ids, worker_id, now)
    return _claimed(ids, worker_id)


def claim_lane(worker_id: str, limit: int | Callable[[int], int], busy: Collection[int] = ()) -> list[Directive]:
    """Take up to `limit` due directives of ONE integration, not one of `busy`, for this worker."""
    # The integration is the one whose oldest due directive is the oldest of all, so integrations
    # take turns in the order their work became due, and one integration's backlog never fills
    # a worker: the worker leaves out (`busy`) the integrations it already runs its limit of.
    # `limit` may be a function of the chosen integration's id (a lane's size follows its pace).
    now = timezone.now()
    eligible = claimable(now)
    if busy:
        eligible = eligible.exclude(integration_id__in=list(busy))
    # Which integration: a plain read, so a worker looking for work while its lanes write takes no
    # write lock (SQLite). Another worker may claim that work meanwhile: then this lane is shorter.
    first = eligible.values_list("integration_id", flat=True).first()
    if first is None:
        return []
    size = limit(first) if callable(limit) else limit
    with transaction.atomic():
        ids = list(_lockable(eligible.filter(integration_id=first)).values_list("id", flat=True)[:size])
        if ids:
            _take(ids, worker_id, now)
    return _claimed(ids, worker_id)


def give_back(directives: Iterable[Directive], worker_id: str) -> int:
    """Return claimed directives that never started to the queue, without counting an attempt."""
    ids = [directive.pk for directive in directives]
    if not ids:
        return 0
    return Directive.objects.filter(id__in=ids, claimed_by=worker_id, status=DirectiveStatus.RUNNING).update(
        status=DirectiveStatus.QUEUED, claimed_by="", attempts=F("attempts") - 1, updated_at=timezone.now()
    )


def claim_one(directive_id: int, worker_id: str) -> Directive | None:
    """Take one directive now if it is queued, due and its integration active, like claim(); else None."""
    now = timezone.now()
    # One conditional UPDATE: of two claimers, the second finds the row no longer queued.
    taken = claimable(now).filter(pk=directive_id).order_by().update(
        status=DirectiveStatus.RUNNING, claimed_by=worker_id, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    if not taken:
        return None
    return Directive.objects.select_related("integration").get(pk=directive_id)


def run_now(directive_id: int, worker_id: str) -> bool:
    """Run one directive's next attempt in the foreground (a command's test event); False when a worker has it."""
    directive = claim_one(directive_id, worker_id)
    if directive is None:
        return False
    execute(directive, worker_id)
    return True


def _classify(exc: BaseException) -> str:
    """'waiting', 'auth', 'retry' or 'failed' for a handler's exception."""
    if isinstance(exc, BreakerOpen):
        return "waiting"
    if isinstance(exc, ProviderAuthError):
        return "auth"
    if isinstance(exc, (ProviderRejected, DirectiveFailed, ValidationError, ValueError, KeyError, TypeError)):
        return "failed"
    # Data that does not fit (a number past a column, nesting past the stack, a value the database
    # refuses) fails the same way on every attempt: retrying only repeats a traceback.
    if isinstance(exc, (ArithmeticError, RecursionError, DataError)):
        return "failed"
    # Provider unavailable, timeouts, rate limits, explicit retries, and anything unexpected.
    return "retry"


def _retry_after(exc: BaseException) -> float | None:
    """A wait the error itself asks for (Retry-After, breaker half-open time)."""
    wait = getattr(exc, "retry_after", None)
    retry_at = getattr(exc, "retry_at", None)
    if retry_at is not None:
        return max(0.0, (retry_at - timezone.now()).total_seconds())
    return float(wait) if wait is not None else None


def _error_text(directive: Directive, exc: BaseException) -> str:
    """The exception as one redacted line (with the traceback for unexpected errors)."""
    text = f"{type(exc).__name__}: {failure_text(directive.integration, exc)}"
    return text[:MAX_ERROR]


class DoneBatch:
    """Successful outcomes written together in one transaction (group commit)."""
    # A worker that dies before `flush` leaves those directives running: the reaper re-queues them
    # and they run once more, which at-least-once delivery allows; the batch bounds how many.

    def __init__(self, worker_id: str) -> None:
        """Nothing recorded yet for this worker."""
        self.worker_id = worker_id
        self.attempts: list[DirectiveAttempt] = []
        self.calls: list[Any] = []
        self.ids: list[int] = []

    def add(self, directive: Directive, started, duration: int, calls: list[Any]) -> None:
        """Remember one directive that succeeded."""
        self.ids.append(directive.pk)
        self.calls.extend(calls)
        self.attempts.append(
            DirectiveAttempt(directive=directive, number=directive.attempts, worker=self.worker_id,
                             started_at=started, duration_ms=duration, outcome=Outcome.DONE)
        )

    def flush(self) -> int:
        """Write every remembered outcome in one transaction; return how many."""
        if not self.ids:
            return 0
        now = timezone.now()
        with transaction.atomic():
            write_call_rows(self.calls)
            DirectiveAttempt.objects.bulk_create(self.attempts)
            Directive.objects.filter(pk__in=self.ids, claimed_by=self.worker_id).update(
                status=DirectiveStatus.DONE, finished_at=now, last_error="", claimed_by="", updated_at=now
            )
        count = len(self.ids)
        self.attempts, self.calls, self.ids = [], [], []
        return count


def execute(directive: Directive, worker_id: str, batch: DoneBatch | None = None) -> str:
    """Run one claimed directive and record the attempt (now, or in `batch` when it succeeds)."""
    started = timezone.now()
    clock = time.monotonic()
    handler = handlers().get(directive.topic)
    with deferred_call_log() as calls:
        try:
            if handler is None:
                raise DirectiveFailed(f"No handler is registered for topic {directive.topic!r}.")
            handler.run(directive)
        except Exception as exc:  # noqa: BLE001 - every outcome is recorded on the directive
            duration = int((time.monotonic() - clock) * 1000)
            write_call_rows(calls)
            return _after_failure(directive, worker_id, started, handler, exc, duration)
    duration = int((time.monotonic() - clock) * 1000)
    own = batch or DoneBatch(worker_id)
    own.add(directive, started, duration, calls)
    if batch is None:
        own.flush()
    return DirectiveStatus.DONE


def _attempt(directive: Directive, worker_id: str, started, duration: int | None, outcome: str, error: str = "") -> None:
    """Record one attempt."""
    DirectiveAttempt.objects.create(
        directive=directive, number=directive.attempts, worker=worker_id, started_at=started,
        duration_ms=duration, outcome=outcome, error=error,
    )


def _after_failure(
    directive: Directive, worker_id: str, started, handler: DirectiveHandler | None, exc: BaseException, duration: int
) -> str:
    """Record a failed attempt and decide: wait, retry, fail or die."""
    kind = _classify(exc)
    text = _error_text(directive, exc)
    now = timezone.now()
    update: dict[str, Any] = {"last_error": text, "claimed_by": "", "updated_at": now}
    if kind in ("waiting", "auth"):
        # Not the directive's fault: it waits for the breaker or the operator, without using up an attempt.
        if kind == "auth":
            _mark_auth_failed(directive.integration, text)
        wait = _retry_after(exc) or 5.0
        outcome, status = Outcome.WAITING, DirectiveStatus.QUEUED
        update.update(status=status, next_run_at=now + timedelta(seconds=wait), attempts=F("attempts") - 1)
    elif kind == "retry" and directive.attempts < directive.max_attempts:
        wait = max(handler.delay_before(directive.attempts), _retry_after(exc) or 0.0)
        outcome, status = Outcome.RETRY, DirectiveStatus.QUEUED
        update.update(status=status, next_run_at=now + timedelta(seconds=wait))
    elif kind == "retry":
        outcome, status = Outcome.DEAD, DirectiveStatus.DEAD
        update.update(status=status, finished_at=now)
    else:
        outcome, status = Outcome.FAILED, DirectiveStatus.FAILED
        update.update(status=status, finished_at=now)
    if kind == "retry" and not _is_provider_error(exc):
        logger.error("Directive %s (%s) raised unexpectedly:\n%s", directive.pk, directive.topic, _trace(directive, exc))
    with transaction.atomic():
        _attempt(directive, worker_id, started, duration, outcome, text)
        Directive.objects.filter(pk=directive.pk).update(**update)
    return status


def _is_provider_error(exc: BaseException) -> bool:
    """Whether the exception is one of the typed provider errors (expected, no traceback needed)."""
    return isinstance(exc, (ProviderError, DirectiveRetry))


def _trace(directive: Directive, exc: BaseException) -> str:
    """The traceback with the integration's secrets removed."""
    return redact_text("".join(traceback.format_exception(exc)), secret_values(directive.integration))


def _mark_auth_failed(integration: Integration, reason: str) -> None:
    """The provider refused the credentials while working: the operator must re-authenticate."""
    mark_auth_failed(integration, reason, "hi")


def requeue_interrupted(live_workers: set[str], grace=timedelta(seconds=5)) -> int:
    """Put back directives claimed by workers that stopped heartbeating; return how many."""
    now = timezone.now()
    stale = Directive.objects.filter(status=DirectiveStatus.RUNNING, claimed_at__lt=now - grace).exclude(
        claimed_by__in=live_workers
    )
    count = 0
    for directive in stale:
        with transaction.atomic():
            moved = Directive.objects.filter(pk=directive.pk, status=DirectiveStatus.RUNNING, claimed_by=directive.claimed_by).update(
                status=DirectiveStatus.QUEUED, next_run_at=now, claimed_by="", updated_at=now,
                last_error=f"Worker {directive.claimed_by} stopped while running this directive.",
            )
            if moved:
                _attempt(
                    directive, directive.claimed_by, directive.claimed_at, None, Outcome.INTERRUPTED,
                    "The worker stopped before the attempt finished.",
                )
                count += 1
    if count:
        logger.warning("Re-queued %s directive(s) of stopped workers.", count)
    return count
