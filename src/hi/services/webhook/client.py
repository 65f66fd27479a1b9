"""Sending one signed Standard Webhooks message to an endpoint, through the framework's HTTP client."""
from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hi.integrations import standard_webhooks
from hi.integrations.http import ProviderClient, client_for_integration

PROVIDER = "webhook"
TIMEOUT_S = 15.0
_PATTERN = re.compile(r"\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\.\*)?", re.ASCII)


def normalise_url(url: str) -> str:
    """The endpoint's identity: lower-case scheme and host, no default port, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def parse_patterns(text: str) -> list[str]:
    """The comma-separated event patterns; ValueError naming the first malformed one."""
    patterns = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not patterns:
        raise ValueError("Name at least one event type, or * for every event.")
    for pattern in patterns:
        if not _PATTERN.fullmatch(pattern):
            raise ValueError(f"{pattern!r} is not an event type or a wildcard like order.* or *.")
    return patterns


def wants(patterns_text: str, event_type: str) -> bool:
    """Whether an endpoint's events filter selects this event type (exact names or a trailing .*)."""
    try:
        patterns = parse_patterns(patterns_text)
    except ValueError:
        return False
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def body_bytes(event_type: str, timestamp: str, data: Any) -> bytes:
    """The Standard Webhooks body, compact JSON: exactly the bytes that are signed and sent."""
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":")).encode()


def post_signed(url: str, msg_id: str, body: bytes, secret: str, integration: Any = None):
    """POST `body` to `url` signed under `secret`; return the 2xx response or raise a ProviderError."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    path = urlunsplit(("", "", parts.path, parts.query, ""))
    headers = standard_webhooks.headers(msg_id, int(time.time()), body, [secret])
    headers["Content-Type"] = "application/json"
    options: dict[str, Any] = {"timeout": (min(5.0, TIMEOUT_S), TIMEOUT_S), "secrets": (secret,)}
    if integration is None:
        client = ProviderClient(PROVIDER, base, **options)
    else:
        client = client_for_integration(integration, PROVIDER, base, **options)
    return client.request("POST", path, data=body, headers=headers)
