"""A gate in front of a fake provider route: requests wait until it opens, and it counts them."""
from __future__ import annotations

import threading

from ..simulation import FakeRequest, Response, Route


class Gate:
    """Wrap `route`: each request waits until `open()` (at most `max_hold_s`), counted while it waits."""
    # A slow provider under the test's control: the test decides when the held calls finish, so it
    # can look at hi while they are still in flight, without sleeping for a fixed time.

    def __init__(self, route: Route, max_hold_s: float = 60.0) -> None:
        """A gate in front of `route` that holds a request at most `max_hold_s`; nothing arrived yet."""
        self.route = route
        self.max_hold_s = max_hold_s
        self.arrived = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._opened = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: FakeRequest) -> Response:
        """Hold the request until the gate opens, then answer it with the wrapped route."""
        with self._lock:
            self.arrived += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._opened.wait(self.max_hold_s)
        finally:
            with self._lock:
                self.in_flight -= 1
        return self.route(request)

    def open(self) -> None:
        """Let every held request (and every later one) through."""
        self._opened.set()
