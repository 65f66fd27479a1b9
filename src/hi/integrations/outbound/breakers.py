"""A circuit breaker per integration: pybreaker's state machine, its state kept in the BreakerState row."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

import pybreaker
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ..core.errors import BreakerOpen, ProviderError, ProviderUnavailable
from ..models import BreakerState

logger = logging.getLogger(__name__)
T = TypeVar("T")
State = BreakerState.State


def fail_max() -> int:
    """Consecutive provider failures that open a breaker."""
    return int(getattr(settings, "HI_BREAKER_FAIL_MAX", 5))


def reset_timeout_s() -> float:
    """How long an open breaker fails fast before it lets a trial call through."""
    return float(getattr(settings, "HI_BREAKER_RESET_S", 60))


def refresh_s() -> float:
    """How old the in-memory copy of a row may get before it is read again (other processes write it too)."""
    return float(getattr(settings, "HI_BREAKER_REFRESH_S", 15))


def _key(integration: Any) -> str:
    """The registry key: the integration's primary key, given the integration or the key itself."""
    return str(getattr(integration, "pk", integration))


def counts_as_failure(exc: BaseException) -> bool:
    """Only the provider being down or slow opens a breaker; refusals (4xx, auth, 429) are answers."""
    return isinstance(exc, ProviderUnavailable)


class DatabaseStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker storage backed by the integration's BreakerState row, cached in memory for `refresh_s()`."""

    def __init__(self, integration_id: str) -> None:
        """Storage for one integration's breaker, closed until the database says otherwise."""
        super().__init__("database")
        self.integration_id = integration_id
        self._lock = threading.RLock()
        self._state: str = State.CLOSED
        self._counter = 0
        self._success_counter = 0
        self._opened_at: datetime | None = None
        self._loaded_at = float("-inf")

    # Reading: from memory, re-read when stale so an open breaker set by another process is seen.

    def reload(self) -> None:
        """Read the row again (a missing row is a closed breaker)."""
        row = (
            BreakerState.objects.filter(integration_id=self.integration_id)
            .values("state", "fail_counter", "opened_at")
            .first()
        )
        with self._lock:
            if row:
                self._state, self._counter, self._opened_at = row["state"], row["fail_counter"], row["opened_at"]
            self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        """Reload from the database when the cached state is older than the refresh interval."""
        if time.monotonic() - self._loaded_at > refresh_s():
            self.reload()

    @property
    def state(self) -> str:
        """The breaker's state, fresh from the database."""
        self._fresh()
        return self._state

    @state.setter
    def state(self, state: str) -> None:
        """Store a new state (and its opening time), logging the transition."""
        with self._lock:
            previous, self._state = self._state, str(state)
            if state == State.CLOSED:
                self._counter = 0  # closing starts a new tally (pybreaker resets it right after)
            now = timezone.now()
            self._save(state=self._state, fail_counter=self._counter, opened_at=self._opened_at, last_transition_at=now)
        log = logger.warning if state == State.OPEN else logger.info
        log("Circuit breaker of integration %s: %s -> %s", self.integration_id, previous, state)

    @property
    def counter(self) -> int:
        """Consecutive failures counted, fresh from the database."""
        self._fresh()
        return self._counter

    @property
    def success_counter(self) -> int:
        """Consecutive successes in this process."""
        return self._success_counter

    @property
    def opened_at(self) -> datetime | None:
        """When the breaker opened, fresh from the database."""
        self._fresh()
        return self._opened_at

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        """Remember the opening time until the state setter writes it."""
        # pybreaker sets opened_at just before the state: the state setter writes both.
        self._opened_at = value

    # Writing: failures count in the row (atomically), so every process adds to the same tally.

    def increment_counter(self) -> None:
        """Count one more failure in the database, atomically."""
        with self._lock:
            if not self._update(fail_counter=F("fail_counter") + 1):
                self._save(fail_counter=self._counter + 1)
            self.reload()

    def reset_counter(self) -> None:
        """Reset the failure count to zero."""
        with self._lock:
            if self._counter:
                self._counter = 0
                self._save(fail_counter=0)

    def increment_success_counter(self) -> None:
        """Count one more success."""
        self._success_counter += 1

    def reset_success_counter(self) -> None:
        """Reset the success count."""
        self._success_counter = 0

    def _update(self, **fields: Any) -> int:
        """Update this integration's row; return how many rows changed (0: there is none yet)."""
        # QuerySet.update() skips auto_now: stamp updated_at ourselves.
        return BreakerState.objects.filter(integration_id=self.integration_id).update(
            updated_at=timezone.now(), **fields
        )

    def _save(self, **fields: Any) -> None:
        """Update the row, creating it the first time."""
        if self._update(**fields):
            return
        try:
            with transaction.atomic():
                BreakerState.objects.create(integration_id=self.integration_id, **fields)
        except IntegrityError:
            self._update(**fields)  # another process created it meanwhile


class IntegrationBreaker(pybreaker.CircuitBreaker):
    """A pybreaker CircuitBreaker that keeps a handle on its DatabaseStorage."""

    def __init__(self, storage: DatabaseStorage, **kwargs: Any) -> None:
        """A breaker keeping its state in `storage`."""
        super().__init__(state_storage=storage, **kwargs)
        self.storage = storage

    def open_until(self) -> datetime | None:
        """When this open breaker lets a trial call through; None when calls may go now."""
        if self.storage.state != State.OPEN:
            return None
        opened_at = self.storage.opened_at
        until = opened_at + timedelta(seconds=self.reset_timeout) if opened_at else None
        return until if until and timezone.now() < until else None


_registry: dict[str, IntegrationBreaker] = {}
_registry_lock = threading.Lock()


def breaker_for(integration: Any) -> IntegrationBreaker:
    """The process-wide breaker of an integration, created on first use from its row."""
    key = _key(integration)
    with _registry_lock:
        breaker = _registry.get(key)
        if breaker is None:
            breaker = _registry[key] = IntegrationBreaker(
                DatabaseStorage(key),
                name=f"integration:{key}",
                exclude=[lambda exc: not counts_as_failure(exc)],
                # Callers get the provider's own error (status, excerpt), not a generic "breaker tripped".
                throw_new_error_on_trip=False,
            )
    # Read every time so that a settings change (or a test's settings fixture) applies at once.
    breaker.fail_max, breaker.reset_timeout = fail_max(), reset_timeout_s()
    return breaker


def clear_registry() -> None:
    """Forget every in-memory breaker: the next call reads its row again, as a new process would."""
    with _registry_lock:
        _registry.clear()


def _replay(outcome: Any) -> Any:
    """Hand pybreaker the outcome of a call made outside its lock."""
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def guard(integration: Any, provider: str, call: Callable[[], T]) -> T:
    """Run `call` under the integration's breaker: fail fast while open, count provider failures."""
    breaker = breaker_for(integration)
    until = breaker.open_until()
    if until is not None:
        raise BreakerOpen(
            provider,
            f"paused after {breaker.fail_max} failures in a row; next try after {until:%H:%M:%S} UTC",
            retry_at=until,
        )
    # pybreaker's call() holds the breaker's lock for the whole call (danielfm/pybreaker#55), which would
    # serialize every request to one integration, backoff sleeps included. So the HTTP exchange runs here,
    # unlocked, and pybreaker only sees its outcome, applying its own rules (counting, exclusion, open,
    # half-open after reset_timeout, close) under the lock.
    try:
        outcome: Any = call()
    except ProviderError as exc:
        outcome = exc
    try:
        return breaker.call(_replay, outcome)
    except pybreaker.CircuitBreakerError:
        # Another thread opened the breaker while this call was in flight: report what this call got.
        return _replay(outcome)


def reset_breaker(integration: Any) -> None:
    """Close an integration's breaker now (an operator fixed the cause)."""
    breaker_for(integration).close()


# Reading for others (console, worker): straight from the row, which every process keeps current.


def _row(integration: Any) -> dict[str, Any] | None:
    """The integration's stored breaker state and opening time, or None."""
    return BreakerState.objects.filter(integration_id=_key(integration)).values("state", "opened_at").first()


def _reopen_at(row: dict[str, Any] | None) -> datetime | None:
    """When an open breaker lets a trial call through, or None when it is not open."""
    if not row or row["state"] != State.OPEN or row["opened_at"] is None:
        return None
    return row["opened_at"] + timedelta(seconds=reset_timeout_s())


def reopen_at(integration: Any) -> datetime | None:
    """When an open breaker lets the next call through (None unless open)."""
    return _reopen_at(_row(integration))


def is_open(integration: Any) -> bool:
    """Whether calls to the integration's provider fail fast right now."""
    until = reopen_at(integration)
    return until is not None and timezone.now() < until


def open_breakers(now: datetime | None = None) -> QuerySet:
    """Integration ids whose breaker fails fast right now, for `.exclude(integration_id__in=open_breakers())`."""
    # A row still saying "open" after the reset timeout is a breaker waiting for its trial call: not in here.
    since = (now or timezone.now()) - timedelta(seconds=reset_timeout_s())
    return BreakerState.objects.filter(state=State.OPEN, opened_at__gt=since).values("integration_id")


def breaker_state(integration: Any) -> str:
    """ "closed", "open" or "half-open" (an open breaker whose reset timeout passed lets a trial call through)."""
    row = _row(integration)
    if not row:
        return State.CLOSED.value
    if row["state"] == State.OPEN:
        until = _reopen_at(row)
        return State.OPEN.value if until is not None and timezone.now() < until else State.HALF_OPEN.value
    return str(row["state"])
