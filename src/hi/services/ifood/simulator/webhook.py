"""The simulator's webhook mode: one signed POST per event, retries on 5xx and timeouts, KEEPALIVE heartbeats."""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

# The simulator is a test tool, so it calls `requests` itself; hi's own code uses hi.integrations.outbound.http.
import requests

SIGNATURE_HEADER = "X-IFood-Signature"


def sign(body: bytes, secret: str) -> str:
    """X-IFood-Signature: the lowercase hex HMAC-SHA256 of the exact raw body, keyed with the client secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(event: dict, spaced: bool = False) -> bytes:
    """An event as iFood sends it: compact JSON with sorted keys (as in the signature test vector)."""
    # `spaced` sends `", "`/`": "` separators instead, still correctly signed over those bytes: a receiver
    # that re-serializes the JSON before checking the signature fails on it.
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(event, sort_keys=True, separators=separators, ensure_ascii=False).encode()


@dataclass
class WebhookConfig:
    """Where and how the simulator delivers events by webhook."""

    url: str
    client_id: str
    secret: str
    #: Seconds between KEEPALIVE heartbeats (None: none); iFood starts them within 30 s.
    keepalive_s: float | None = 30.0
    #: Per-merchant presence: KEEPALIVE carries `merchantIds` and the answer lists the online ones.
    per_merchant: bool = False
    #: iFood retries 5xx and timeouts for up to 15 minutes (simulator clock), then drops the event.
    retry_window_s: float = 15 * 60
    #: iFood's deadline for the receiver's answer.
    timeout_s: float = 5.0
    #: Real seconds before the first retry; doubles up to `retry_max_s`.
    retry_initial_s: float = 1.0
    retry_max_s: float = 60.0


@dataclass
class _Pending:
    """An event waiting to be (re)delivered."""

    event: dict
    first_at: float
    due: float
    attempts: int = 0


@dataclass
class WebhookSender:
    """Delivers events to one URL from a background thread, one event per request."""

    config: WebhookConfig
    #: The simulator clock (for the retry window), so tests can run the window out.
    now: Callable[[], float]
    #: Called with the merchant ids a KEEPALIVE answer put online.
    on_presence: Callable[[list[str]], None]
    #: Read at each send: `bad_signature`, `spaced_body`, `out_of_order` (the simulator's knobs).
    knobs: Any
    merchant_ids: Callable[[], list[str]]
    #: Every attempt: {"event_id", "code", "attempt", "status" (None on timeout/error), "error", "signature"}.
    attempts: list[dict] = field(default_factory=list)
    #: Event ids given up on (4xx, or the retry window ran out).
    dropped: list[str] = field(default_factory=list)
    #: Event ids delivered (a 2xx within the deadline).
    delivered: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Nothing pending; the first keepalive is due one interval from now."""
        self._pending: list[_Pending] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._next_keepalive = time.monotonic() + (self.config.keepalive_s or 0)
        self._rng = random.Random()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="ifood-sim-webhook", daemon=True)

    def start(self) -> "WebhookSender":
        """Start delivering."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop delivering (pending events are abandoned)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=self.config.timeout_s + 1)

    def enqueue(self, event: dict) -> None:
        """Deliver this event as soon as possible."""
        with self._cond:
            self._pending.append(_Pending(event=event, first_at=self.now(), due=time.monotonic()))
            self._cond.notify_all()

    def pending_count(self) -> int:
        """Events waiting for a (re)try."""
        with self._cond:
            return len(self._pending)

    def _next(self) -> _Pending | dict | None:
        """The next thing to send (a pending event or a KEEPALIVE body), waiting until one is due."""
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                due = [p for p in self._pending if p.due <= now]
                if due:
                    pick = self._rng.choice(due) if getattr(self.knobs, "out_of_order", False) else due[0]
                    self._pending.remove(pick)
                    return pick
                if self.config.keepalive_s and now >= self._next_keepalive:
                    self._next_keepalive = now + self.config.keepalive_s
                    return self._keepalive()
                wake = [p.due for p in self._pending]
                if self.config.keepalive_s:
                    wake.append(self._next_keepalive)
                self._cond.wait(timeout=max(0.005, min(wake, default=now + 0.5) - now))
        return None

    def _keepalive(self) -> dict:
        """A heartbeat event (per-merchant mode lists the merchants)."""
        event: dict = {"code": "KEEPALIVE", "fullCode": "KEEPALIVE", "id": str(uuid.uuid4())}
        if self.config.per_merchant:
            event["merchantIds"] = self.merchant_ids()[:1000]
        return event

    def _run(self) -> None:
        """Send until stopped."""
        while True:
            item = self._next()
            if item is None:
                return
            if isinstance(item, dict):
                self._send_keepalive(item)
            else:
                self._send_event(item)

    def _post(self, event: dict, attempt: int) -> requests.Response | None:
        """One signed POST; None on a timeout or a connection error."""
        body = webhook_body(event, spaced=bool(getattr(self.knobs, "webhook_spaced_body", False)))
        secret = self.config.secret
        if getattr(self.knobs, "webhook_bad_signature", False):
            secret = secret + "-not-the-secret"  # homologation sends invalid signatures on purpose
        signature = sign(body, secret)
        record = {"event_id": event["id"], "code": event["code"], "attempt": attempt, "status": None,
                  "error": "", "signature": signature}
        self.attempts.append(record)
        try:
            answer = self._session.post(self.config.url, data=body, timeout=self.config.timeout_s,
                                        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature})
        except requests.RequestException as exc:
            record["error"] = type(exc).__name__
            return None
        record["status"] = answer.status_code
        return answer

    def _send_event(self, pending: _Pending) -> None:
        """Deliver one event; retry 5xx and timeouts within the window, drop on 4xx."""
        pending.attempts += 1
        answer = self._post(pending.event, pending.attempts)
        if answer is not None and answer.status_code < 300:
            self.delivered.append(pending.event["id"])
            return
        retryable = answer is None or answer.status_code >= 500
        if not retryable or self.now() - pending.first_at >= self.config.retry_window_s:
            self.dropped.append(pending.event["id"])
            return
        backoff = min(self.config.retry_max_s, self.config.retry_initial_s * 2 ** (pending.attempts - 1))
        with self._cond:
            pending.due = time.monotonic() + backoff
            self._pending.append(pending)

    def _send_keepalive(self, event: dict) -> None:
        """A heartbeat; a 202 puts the merchants online (per-merchant mode: those the answer lists)."""
        answer = self._post(event, 1)
        if answer is None or answer.status_code != 202:
            return
        online = self.merchant_ids()
        if self.config.per_merchant:
            try:
                online = [str(m) for m in answer.json().get("merchantIds", [])]
            except (ValueError, AttributeError):
                online = []
        self.on_presence(online)
