"""Sending one signed Standard Webhooks message to an endpoint, through the framework's HTTP client."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, Sequence
from urllib.parse import urlsplit, urlunsplit

from hi.integrations.api import ProviderClient, client_for_integration, origin, standard_webhooks

PROVIDER = "webhook"
TIMEOUT_S = 15.0
#: Headers hi sets itself on every delivery (Standard Webhooks, and what HTTP needs).
RESERVED_HEADERS = frozenset({
    "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host",
    "user-agent", "transfer-encoding", "connection", origin.ORIGIN_HEADER.lower(),
})
MAX_EXTRA_HEADERS = 20
#: How much of a receiver's 401/403 answer the operator sees (redacted, one line).
REFUSAL_CHARS = 200
# RFC 9110 §5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)
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


def wire_timestamp(value: datetime | str) -> str:
    """The one form of a body's `timestamp`: UTC, microseconds, "Z" (2026-12-03T10:00:00.000000Z)."""
    # As in the Standard Webhooks examples. A stored string in another ISO 8601 form (an older delivery's) is rewritten.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time hi wrote: sent as it is
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt_timezone.utc)
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body_bytes(event_type: str, timestamp: datetime | str, data: Any) -> bytes:
    """The Standard Webhooks body, compact JSON with non-ASCII escaped (\\u00e9): exactly the bytes signed and sent."""
    # A receiver verifies them as received, never parsed and serialised again.
    return json.dumps({"type": event_type, "timestamp": wire_timestamp(timestamp), "data": data}, separators=(",", ":")).encode()


def parse_headers(text: str) -> dict[str, str]:
    """The extra headers attribute: a JSON object of names to text values; ValueError never quoting a value."""
    if not (text or "").strip():
        return {}
    try:
        headers = json.loads(text)
    except ValueError:
        raise ValueError('Extra headers must be a JSON object, like {"Authorization": "Bearer …"}.') from None
    if not isinstance(headers, dict):
        raise ValueError('Extra headers must be a JSON object, like {"Authorization": "Bearer …"}.')
    if len(headers) > MAX_EXTRA_HEADERS:
        raise ValueError(f"At most {MAX_EXTRA_HEADERS} extra headers.")
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name[:60]!r} is not a valid header name.")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name} is set by hi and cannot be replaced.")
        # The value is secret: the message names the header, never what it holds.
        if not isinstance(value, str) or not value or len(value) > 2000 or any(c in value for c in "\r\n\x00"):
            raise ValueError(f"The value of {name} must be one line of text (at most 2,000 characters).")
    return headers


def signed_headers(
    msg_id: str, body: bytes, secrets: Sequence[str], extra: dict[str, str] | None = None, via: Sequence[str] = ()
) -> dict[str, str]:
    """Every header of one attempt: the operator's extra ones, the Standard Webhooks ones (signed now), and Hi-Origin."""
    # Hi-Origin lists the hi installations the message went through (`via`, then this one): forwarding stops at a loop.
    headers = dict(extra or {})
    headers.update(standard_webhooks.headers(msg_id, int(time.time()), body, list(secrets)))
    headers["Content-Type"] = "application/json"
    headers.update(origin.outbound_headers(via))
    return headers


def post(url: str, body: bytes, headers: dict[str, str], secrets: Sequence[str], integration: Any = None, timeout_s: float = TIMEOUT_S):
    """POST `body` with `headers` to `url`; return the 2xx response or raise a ProviderError (secrets redacted)."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    path = urlunsplit(("", "", parts.path, parts.query, ""))
    options: dict[str, Any] = {
        "timeout": (min(5.0, timeout_s), timeout_s), "secrets": tuple(secrets),
        # The receiver is the operator's own: its short refusal (which check failed) is shown even during set-up.
        "refusal_chars": REFUSAL_CHARS,
    }
    if integration is None:
        client = ProviderClient(PROVIDER, base, **options)
    else:
        client = client_for_integration(integration, PROVIDER, base, **options)
    return client.request("POST", path, data=body, headers=headers)
