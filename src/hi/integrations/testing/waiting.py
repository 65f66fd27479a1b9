"""Polling helper for tests that watch other threads or processes."""
from __future__ import annotations

import time
from typing import Callable


def wait_for(predicate: Callable[[], object], timeout_s: float = 10, interval_s: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout_s` passes; return its last truth value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
