"""What every simulator's control side needs: strict JSON knob converters, control bodies and answers, a clock tests move."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from .server import FakeRequest, Response, json_response


def strict(kind: type, optional: bool = False) -> Callable[[Any], Any]:
    """A converter that accepts only JSON values of `kind` (no "false" → True surprises; numbers not negative)."""
    def convert(value: Any) -> Any:
        """The value as `kind`, or ValueError saying what was expected."""
        if value is None and optional:
            return None
        if kind is bool and isinstance(value, bool):
            return value
        if kind is str and isinstance(value, str):
            return value
        if kind in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
            if kind is int and value != int(value):
                raise ValueError("an integer")
            if value < 0:
                raise ValueError(f"a non-negative {kind.__name__}")
            return kind(value)
        raise ValueError(f"{kind.__name__}{' or null' if optional else ''}")
    return convert


def control_body(request: FakeRequest) -> dict[str, Any]:
    """The JSON object body of a control request ({} when empty); ValueError otherwise."""
    body = request.json() if request.body else {}
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def bad_request(message: str) -> Response:
    """A 400 from a control endpoint, saying what was wrong."""
    return json_response(400, {"error": message})


class SimulatedClock:
    """A simulator's clock: its time source plus whatever advance() added, so a test moves time without waiting."""

    def __init__(self, source: Callable[[], float] | None = None) -> None:
        """A clock on `source` (unix seconds; time.time by default)."""
        self.source = source or time.time
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """The source's time plus every advance so far."""
        return self.source() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        with self._lock:
            self._offset += seconds
