"""A worker's lanes: one integration's due directives, claimed for a free slot and run in order."""
from __future__ import annotations

import threading
import time
from functools import partial
from typing import Callable

from ..models import Directive
from . import execution
from .slots import Slots

#: A lane runs one integration's claimed directives one after another for about this long, then
#: gives its slot back (and its unstarted directives with it), so that other integrations, and
#: that integration's own jobs, take turns; a lane claims about as many as fit in this time.
LANE_BUDGET_S = 1.0


class Lanes:
    """Start lanes in free slots, and keep each slot going with the next lane it may claim."""

    def __init__(
        self,
        worker_id: str,
        slots: Slots,
        dispatch_lock: threading.Lock,
        *,
        batch: int,
        stopping: Callable[[], bool],
        held_back: Callable[[], set[int]],
    ) -> None:
        """A lane of `worker_id` that claims up to `batch` directives and runs them in `slots`."""
        self.worker_id = worker_id
        self.slots = slots
        self.dispatch_lock = dispatch_lock  # shared with whatever else starts tasks in these slots
        self.batch = batch  # the most directives one lane claims
        self.stopping = stopping
        self.held_back = held_back  # integrations that get no new lane for now (a job of theirs goes first)
        #: Directives a lane of each integration claims: what fits in LANE_BUDGET_S at its last pace.
        self.sizes: dict[int, int] = {}
        self.executed = 0
        self._count_lock = threading.Lock()

    def start(self) -> int:
        """Fill free slots with lanes, each of one integration that has room; return how many started."""
        started = 0
        while self.slots.free and not self.stopping():
            with self.dispatch_lock:
                claimed = execution.claim_lane(self.worker_id, self.size, self._no_new_lane(self.slots.full_keys()))
                if not claimed:
                    break
                integration_id = claimed[0].integration_id
                if not self.slots.start(integration_id, f"directives of {integration_id}", partial(self._run_lanes, claimed)):
                    execution.give_back(claimed, self.worker_id)  # room is only taken under this lock: not expected
                    break
            started += 1
        return started

    def size(self, integration_id: int) -> int:
        """How many directives a lane of this integration claims (1 until its pace is known)."""
        return self.sizes.get(integration_id, 1)

    def _no_new_lane(self, full: set) -> set:
        """Integrations that get no new lane: at their limit (`full`), or held back."""
        return set(full) | self.held_back()

    def _run_lanes(self, claimed: list[Directive]) -> None:
        """A slot's task: run a lane, then the next one this slot can claim, until there is none."""
        # Claiming the next lane here, not in the main thread, keeps the slot busy without a hand-over
        # between lanes; the next lane is the oldest due integration with room, as for a new slot.
        while claimed:
            self._run(claimed)
            claimed = self._next()

    def _next(self) -> list[Directive]:
        """Claim another lane for the calling slot (possibly of another integration); [] when none or stopping."""
        if self.stopping():
            return []
        with self.dispatch_lock:
            claimed = execution.claim_lane(self.worker_id, self.size, self._no_new_lane(self.slots.full_keys_for_next()))
            if claimed and not self.slots.move(claimed[0].integration_id):
                execution.give_back(claimed, self.worker_id)  # room is only taken under this lock: not expected
                return []
        return claimed

    def _run(self, claimed: list[Directive]) -> None:
        """Run one integration's claimed directives in order, within the lane's budget."""
        # Successes are written together (at most every quarter second), failures at once. What a
        # stop, the budget or an escaping error leaves unstarted goes back to the queue.
        done = execution.DoneBatch(self.worker_id)
        began = flushed_at = time.monotonic()
        started = 0
        try:
            for directive in claimed:
                if self.stopping() or (started and time.monotonic() - began > LANE_BUDGET_S):
                    break
                started += 1
                execution.execute(directive, self.worker_id, done)
                if time.monotonic() - flushed_at > 0.25:
                    done.flush()
                    flushed_at = time.monotonic()
        finally:
            try:
                execution.give_back(claimed[started:], self.worker_id)
            finally:
                done.flush()
                self._learn_pace(claimed[0].integration_id, started, time.monotonic() - began)

    def _learn_pace(self, integration_id: int, ran: int, elapsed_s: float) -> None:
        """Size this integration's next lane from this one's pace, and count what ran."""
        if not ran:
            return
        with self._count_lock:
            self.executed += ran
            fits = int(LANE_BUDGET_S / (elapsed_s / ran)) if elapsed_s > 0 else self.batch
            self.sizes[integration_id] = max(1, min(self.batch, fits))
