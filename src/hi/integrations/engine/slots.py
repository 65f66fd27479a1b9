"""A worker's slots: up to N tasks at once in threads, at most K of them for one integration."""
from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Hashable

from django.db import close_old_connections, connections

from ..core.errors import SlotsClosed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """One unit of work: a lane of directives, a job occurrence, a set-up retry."""

    key: Hashable  # the integration's id: at most `per_integration` tasks of one key run at once
    name: str
    run: Callable[[], object]


class Slots:
    """Run tasks in `size` threads, never more than `per_integration` of one key at once."""
    # The caller reserves before it claims work (`room_for`, `full_keys`), so nothing is taken from
    # the queue that cannot start at once. Each thread has its own database connection, tidied
    # after every task (`close_old_connections`: kept while `CONN_MAX_AGE` allows) and closed when
    # the thread ends.

    def __init__(self, size: int, per_integration: int) -> None:
        """`size` slots in all, at most `per_integration` of them for one integration."""
        if size < 1 or per_integration < 1:
            raise ValueError(f"A worker needs at least one slot and one per integration, not {size} and {per_integration}.")
        self.size = size
        self.per_integration = per_integration
        self._tasks: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._running: Counter[Hashable] = Counter()
        self._busy = 0
        self._finished = 0  # how many tasks ended: `wait` returns as soon as it moves
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._local = threading.local()  # the key the current thread's task runs under
        self._closed = False
        #: The first exception a task let escape (a bug or a database failure): the worker stops on it.
        self.failure: BaseException | None = None

    # Reading ---------------------------------------------------------------------------------
    @property
    def free(self) -> int:
        """Slots not running anything."""
        with self._changed:
            return self.size - self._busy

    @property
    def idle(self) -> bool:
        """Whether no task is running."""
        with self._changed:
            return self._busy == 0

    def room_for(self, key: Hashable) -> bool:
        """Whether a task of `key` could start now."""
        with self._changed:
            return self._busy < self.size and self._running[key] < self.per_integration

    def full_keys(self) -> set[Hashable]:
        """Keys that already run their limit of tasks."""
        with self._changed:
            return {key for key, count in self._running.items() if count >= self.per_integration}

    def running(self, key: Hashable) -> int:
        """Tasks of `key` running now."""
        with self._changed:
            return self._running[key]

    @property
    def finished(self) -> int:
        """How many tasks have ended so far (a mark to `wait` on)."""
        with self._changed:
            return self._finished

    # Running ---------------------------------------------------------------------------------
    def start(self, key: Hashable, name: str, run: Callable[[], object]) -> bool:
        """Start `run` in a free slot; False (and nothing started) when there is no room for `key`."""
        with self._changed:
            if self._closed:
                raise SlotsClosed(f"Task {name} offered after the worker's slots were closed.")
            if self._busy >= self.size or self._running[key] >= self.per_integration:
                return False
            self._busy += 1
            self._running[key] += 1
            if len(self._threads) < self._busy:
                # Threads are started as they are first needed, and then kept.
                thread = threading.Thread(target=self._serve, name=f"hi-slot-{len(self._threads) + 1}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._tasks.put(Task(key, name, run))
        return True

    def full_keys_for_next(self) -> set[Hashable]:
        """From inside a task: the keys at their limit once this task is done with its own key."""
        mine = self._local.key
        with self._changed:
            return {key for key, count in self._running.items() if count - (key == mine) >= self.per_integration}

    def move(self, key: Hashable) -> bool:
        """From inside a task: go on as a task of `key` if it has room (True), else change nothing."""
        mine = self._local.key
        with self._changed:
            if key != mine and self._running[key] >= self.per_integration:
                return False
            self._release(mine)
            self._running[key] += 1
        self._local.key = key
        return True

    def wait(self, since: int, timeout_s: float) -> None:
        """Return when a task has ended since the mark `since` (see `finished`), or after `timeout_s`."""
        with self._changed:
            self._changed.wait_for(lambda: self._finished != since, timeout=timeout_s)

    def close(self, timeout_s: float | None = None) -> None:
        """Let the running tasks finish, then end the threads; offer nothing after this."""
        with self._changed:
            self._closed = True
            self._changed.wait_for(lambda: self._busy == 0, timeout=timeout_s)
            threads = list(self._threads)
        for _ in threads:
            self._tasks.put(None)
        for thread in threads:
            thread.join(timeout=5)

    def _serve(self) -> None:
        """A slot's thread: run tasks until told to end, then close its database connection."""
        try:
            while (task := self._tasks.get()) is not None:
                self._run(task)
        finally:
            connections.close_all()

    def _release(self, key: Hashable) -> None:
        """One task of `key` fewer (the condition's lock is held)."""
        self._running[key] -= 1
        if not self._running[key]:
            del self._running[key]

    def _run(self, task: Task) -> None:
        """Run one task and give its slot back, whatever happens."""
        self._local.key = task.key  # a task may go on under another key (`move`)
        try:
            task.run()
        except BaseException as exc:  # noqa: BLE001 - tasks record their own failures; this one escaped them
            logger.exception("Worker task %s failed; the worker stops.", task.name)
            with self._changed:
                self.failure = self.failure or exc
        finally:
            try:
                close_old_connections()
            except Exception:  # noqa: BLE001 - a connection that cannot close is dropped with the thread later
                logger.exception("Closing the database connection after %s failed.", task.name)
            with self._changed:
                self._busy -= 1
                self._release(self._local.key)
                self._finished += 1
                self._changed.notify_all()
