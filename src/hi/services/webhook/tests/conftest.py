"""Fixtures the webhook service's tests share: loopback allowed, and a local receiver verifying signatures."""
from __future__ import annotations

import pytest

from .helpers import SECRET
from .sink import WebhookSink


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """The sink listens on 127.0.0.1 over http: allow-list loopback (tests that refuse it clear this)."""
    settings.HI_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def sink():
    """A receiver that refuses (401) deliveries that do not verify under SECRET."""
    server = WebhookSink(secret=SECRET).start()
    yield server
    server.stop()
