"""Pings: the signed `ping` event of a connection test or an activation, what a refusal means, and the ping's record."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from django.utils import timezone

import hi
from hi.integrations.api import (
    ProviderAuthError,
    ProviderError,
    UnsafeDestination,
    bodies_withheld,
    is_own_receive_url,
    redact_text,
    standard_webhooks,
)

from .client import TIMEOUT_S, body_bytes, post, signed_headers, wire_timestamp
from .deliveries import MAX_BODY_LOGGED, redacted_headers
from .handlers import OWN_URL

PING_TYPE = "ping"


@dataclass
class Ping:
    """One ping as sent (headers as logged: signature and extra header values redacted) and what came back."""

    url: str
    message_id: str
    timestamp: str
    body: bytes
    headers: dict[str, str]
    status_code: int | None = None
    latency_ms: int | None = None
    #: What the receiver said: during set-up only the short refusal of a 401/403, otherwise the start of its answer.
    answer: str = ""
    failure: ProviderError | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.failure is None

    def details(self) -> dict[str, Any]:
        """The ping as JSON-ready data (a connection test's details, the delivery log's record)."""
        return {
            "url": self.url, "message_id": self.message_id, "timestamp": self.timestamp,
            "body": self.body[:MAX_BODY_LOGGED].decode("utf-8", errors="replace"), "headers": self.headers,
            "status_code": self.status_code, "latency_ms": self.latency_ms, "ok": self.ok,
            "error": str(self.failure) if self.failure is not None else "", "answer": self.answer,
        }


def send(url: str, secrets: Sequence[str], extra: dict[str, str], integration: Any = None, timeout_s: float = TIMEOUT_S) -> Ping:
    """POST a `ping` event signed with every secret in `secrets` (as deliveries are during a rotation); say how it went."""
    # The returned Ping's `failure` is the ProviderError unless the receiver answered 2xx.
    stamp = wire_timestamp(timezone.now())
    body = body_bytes(PING_TYPE, stamp, {})
    message_id = standard_webhooks.new_message_id()
    headers = signed_headers(message_id, body, secrets, extra)
    logged = redacted_headers({**headers, "User-Agent": f"hi/{hi.__version__}"}, extra)
    ping = Ping(url=url, message_id=message_id, timestamp=stamp, body=body, headers=logged)
    if is_own_receive_url(url):
        ping.failure = UnsafeDestination("webhook", f"refused to call the endpoint: {OWN_URL}")
        return ping
    started = time.monotonic()
    sent = [*secrets, *extra.values()]
    try:
        response = post(url, body, headers, sent, integration=integration, timeout_s=timeout_s)
    except ProviderError as exc:
        ping.failure, ping.status_code = exc, exc.status
        ping.answer = exc.refusal if isinstance(exc, ProviderAuthError) and exc.refusal else exc.excerpt
    else:
        ping.status_code = response.status_code
        # During set-up the URL is not trusted yet: what it answers is not kept (http.response_bodies_withheld).
        # A receiver may echo what it got: redacted in any encoding before the cut, like a delivery's answer.
        ping.answer = "" if bodies_withheld() else redact_text(response.text[: MAX_BODY_LOGGED * 2], sent)[:MAX_BODY_LOGGED]
    if ping.status_code is not None:
        ping.latency_ms = int((time.monotonic() - started) * 1000)
    return ping


def refusal_sentence(status: int | None, secret_given: bool = True, retry: str = "test again") -> str:
    """What a receiver's 401 or 403 to a signed ping probably means, and what to do about it (then `retry`)."""
    if status == 403:
        return (
            "The receiver is reachable, but refused the request (HTTP 403): that is usually its own authentication, "
            "not the signature. Check the extra headers (for n8n: the Header Auth credential's name and value)."
        )
    if not secret_given:
        return (
            f"The receiver is reachable, but refused the signature (HTTP {status}): it verifies signatures, and no "
            "secret was given, so hi signed the test with a throwaway one. Give hi the secret it verifies with (the "
            f"add form proposes one; `manage.py webhook new-secret` prints one), configure it there, then {retry}."
        )
    return f"The receiver is reachable, but refused the signature (HTTP {status}): configure this secret there, then {retry}."


def answer_note(ping: Ping) -> str:
    """' It answered: “…”.' when the receiver said something in its refusal."""
    return f" It answered: “{ping.answer}”." if ping.answer else ""
