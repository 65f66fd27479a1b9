"""Fixtures the webhook service's tests share: a local receiver verifying signatures (loopback is allowed in hi/conftest.py)."""
from __future__ import annotations

import pytest

from .helpers import SECRET
from .sink import WebhookSink


@pytest.fixture
def sink():
    """A receiver that refuses (401) deliveries that do not verify under SECRET."""
    server = WebhookSink(secret=SECRET).start()
    yield server
    server.stop()
