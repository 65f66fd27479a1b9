"""What a gateway declares for the engine to run: directive handlers, event hooks, scheduled jobs and push listeners."""
from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from ..models import Directive, Event, Integration

#: Seconds before retry n (1-based): 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 6 h, 12 h, 24 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 21600, 43200, 86400)


@dataclass(frozen=True)
class DirectiveHandler:
    """How one topic is executed: the function, its retry schedule and its attempt limit."""

    topic: str
    run: Callable[[Directive], None]
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    max_attempts: int | None = None

    @property
    def attempts_allowed(self) -> int:
        """The first attempt plus one per scheduled retry, unless set explicitly."""
        return self.max_attempts or len(self.schedule) + 1

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based), with ±20 % jitter."""
        base = self.schedule[min(attempt, len(self.schedule)) - 1]
        return base * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class EventHook:
    """A service's subscription: events whose type matches `pattern` ('order.*', '*') call `run`."""

    pattern: str
    run: Callable[[Event, Integration], None]

    def matches(self, event_type: str) -> bool:
        """Whether the hook wants this event type."""
        return fnmatch.fnmatchcase(event_type, self.pattern)


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs every `interval_s` for each active integration of the declaring type."""
    # `single_owner` jobs (a provider queue that allows one consumer) run only on the worker that
    # holds the job's lease, never on two workers at once.

    name: str
    interval_s: float
    run: Callable[[Integration], None]
    single_owner: bool = False
    #: What the job does, in words an operator reads when it keeps failing ("Polling iFood's event queue").
    label: str = ""

    @property
    def title(self) -> str:
        """The label, or the name in words."""
        return self.label or self.name.replace("_", " ").capitalize()


@runtime_checkable
class Listener(Protocol):
    """A push connection the worker holds open for an active integration, in a thread of its own, while it holds the lease."""
    # The framework's WebsocketListener (engine/websocket.py) is the one services subclass.

    #: Distinguishes the listeners of one integration.
    name: str
    #: Set by the worker before run(): who holds the lease.
    worker_id: str

    def run(self, stop: threading.Event) -> None:
        """Connect, receive and reconnect until `stop` is set."""
