"""The simulator's notifications: escaped and signed the way Meta's are, posted to hi from a background thread."""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

# The simulator is a test tool, so it calls `requests` itself; hi's own code uses hi.integrations.http.
import requests

SIGNATURE_HEADER = "X-Hub-Signature-256"
#: Meta also still sends the SHA-1 signature; hi must not rely on it.
SHA1_HEADER = "X-Hub-Signature"
#: Signature modes: the right one, a wrong secret, or one over a re-serialised body (what a careless receiver checks).
SIGNATURE_MODES = ("valid", "invalid", "reserialized")
_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|.)")


def meta_dumps(payload: Any) -> bytes:
    """JSON as Meta sends it: compact, non-ASCII as lowercase `\\uXXXX` (surrogate pairs beyond the BMP), `/` as `\\/`."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    # Walk the escapes left to right so that an escaped backslash followed by "u00E9" is left alone.
    text = _ESCAPE.sub(lambda m: m.group(0).lower() if m.group(0)[1] == "u" else m.group(0), text)
    # Outside strings JSON has no "/", so escaping every one touches only string contents.
    return text.replace("/", "\\/").encode("ascii")


def sign(body: bytes, secret: str) -> str:
    """`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the exact bytes, keyed with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(body: bytes, secret: str) -> str:
    """`X-Hub-Signature`: the legacy SHA-1 form."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def reserialized(body: bytes) -> bytes:
    """The body as a receiver that parses and re-serialises it sees it (JavaScript's JSON.stringify(JSON.parse(…)))."""
    return json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()


def pack(items: list[dict[str, Any]], per_change: int = 2) -> list[list[dict[str, Any]]]:
    """Spread value fragments over entries (up to two) of changes (up to `per_change` fragments of one kind each)."""
    changes: list[dict[str, Any]] = []
    count = 0
    for item in items:
        last = changes[-1] if changes else None
        if last is not None and count < per_change and ("statuses" in last) == ("statuses" in item):
            for key, values in item.items():
                known = {json.dumps(v, sort_keys=True) for v in last.get(key, [])} if key == "contacts" else set()
                last.setdefault(key, []).extend(v for v in values if json.dumps(v, sort_keys=True) not in known)
            count += 1
        else:
            changes.append({key: list(values) for key, values in item.items()})
            count = 1
    if len(changes) < 2:
        return [changes]
    half = (len(changes) + 1) // 2
    return [changes[:half], changes[half:]]


def batch_size(knob: bool | int) -> int:
    """Fragments one POST may carry: `batch_notifications` as a count, True meaning 10, off meaning 1."""
    if knob is True:
        return 10
    return max(1, int(knob or 1))


@dataclass(order=True)
class _Due:
    """A notification waiting for its time: one value fragment, or (on a retry) the exact bytes sent before."""

    due: float
    seq: int
    item: dict[str, Any] | None = field(compare=False, default=None)
    after: Callable[[], None] | None = field(compare=False, default=None)
    raw: bytes | None = field(compare=False, default=None)
    attempt: int = field(compare=False, default=1)


class Notifier:
    """Posts notifications to the simulator's callback from daemon threads; the HTTP handlers only enqueue."""

    def __init__(self, knobs: Any, build: Callable[[list[dict[str, Any]]], dict[str, Any]],
                 now: Callable[[], float], records: list[dict[str, Any]], lock: Any) -> None:
        """The notifier's inputs: the simulator's knobs, the envelope builder, its clock, and the records kept under `lock`."""
        # `knobs` is read at each post (callback_url, app_secret, pauses…); `build` wraps fragments in the envelope;
        # `records` (every post, newest last) is changed only under `lock`, the simulator's.
        self.knobs, self.build, self.now, self.records, self.lock = knobs, build, now, records, lock
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._stopped = False
        self._threads: list[threading.Thread] = []
        # requests.Session is not shared between threads: each poster keeps its own connections.
        self._local = threading.local()

    def schedule(self, item: dict[str, Any], delay_s: float = 0.0, after: Callable[[], None] | None = None) -> None:
        """Post this value fragment (`statuses` or `contacts`+`messages`) in `delay_s` real seconds; then call `after`."""
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, _Due(time.monotonic() + delay_s, next(self._seq), item=item, after=after))
            self._start_posters()
            self._cond.notify_all()

    def wake(self) -> None:
        """Re-read the knobs now (a pause was lifted, more posters were asked for)."""
        with self._cond:
            if self._threads:
                self._start_posters()
            self._cond.notify_all()

    def _start_posters(self) -> None:
        """Start posting threads up to `notification_workers` (called under the condition's lock)."""
        while not self._stopped and len(self._threads) < max(1, int(self.knobs.notification_workers)):
            thread = threading.Thread(target=self._run, name=f"whatsapp-sim-notify-{len(self._threads) + 1}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def pending(self) -> int:
        """Notifications not yet posted (including the one being posted); none once stopped."""
        with self._cond:
            return 0 if self._stopped else len(self._heap) + self._in_flight

    def stop(self) -> None:
        """Post nothing more from now on; a post already on the wire is abandoned, not awaited."""
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + 0.5
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _next(self) -> list[_Due] | None:
        """The next batch of due notifications, waiting until there is one (None once stopped)."""
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                if self._heap and self._heap[0].due <= now and not self.knobs.notifications_paused:
                    batch = [heapq.heappop(self._heap)]
                    limit = batch_size(self.knobs.batch_notifications)
                    # A retry resends its own bytes alone; fresh fragments due together may share one POST.
                    while (batch[0].raw is None and len(batch) < limit and self._heap and self._heap[0].due <= now
                           and self._heap[0].raw is None):
                        batch.append(heapq.heappop(self._heap))
                    self._in_flight += len(batch)
                    return batch
                wait = 0.1 if self.knobs.notifications_paused or not self._heap else self._heap[0].due - now
                self._cond.wait(timeout=min(max(wait, 0.005), 0.5))
        return None

    def _run(self) -> None:
        """Post until stopped."""
        while True:
            batch = self._next()
            if batch is None:
                return
            try:
                self._deliver(batch)
            finally:
                with self._cond:
                    self._in_flight -= len(batch)

    def _deliver(self, batch: list[_Due]) -> None:
        """POST one notification (twice with `duplicate_notifications`); retry it later on a failure."""
        first = batch[0]
        raw = first.raw if first.raw is not None else meta_dumps(self.build([d.item for d in batch if d.item]))
        copies = 2 if self.knobs.duplicate_notifications and first.attempt == 1 else 1
        delivered = False
        for copy in range(copies):
            status = self._post(raw, first.attempt, duplicate=copy > 0)
            if status is None and self._stopped:
                return
            delivered = delivered or (status is not None and 200 <= status < 300)
        for due in batch:
            if due.after is not None:
                due.after()
        if not delivered and first.attempt <= int(self.knobs.notification_retries) and self.knobs.callback_url:
            # Meta retries a refused or failed notification with backoff (for days; here a few times).
            backoff = min(60.0, float(self.knobs.notification_retry_s) * 2 ** (first.attempt - 1))
            with self._cond:
                if not self._stopped:
                    heapq.heappush(self._heap, _Due(time.monotonic() + backoff, next(self._seq), raw=raw,
                                                    attempt=first.attempt + 1))

    def _signature(self, raw: bytes, secret: str) -> str:
        """The signature the `signature_mode` knob asks for."""
        mode = self.knobs.signature_mode
        if mode == "invalid":
            return sign(raw, secret + "-not-the-app-secret")
        if mode == "reserialized":
            return sign(reserialized(raw), secret)
        return sign(raw, secret)

    def _post(self, raw: bytes, attempt: int, duplicate: bool) -> int | None:
        """One signed POST to the callback; its status, or None when it could not be made."""
        url, secret = self.knobs.callback_url, self.knobs.app_secret
        signature = self._signature(raw, secret)
        record: dict[str, Any] = {"body": json.loads(raw), "raw": raw, "signature": signature, "status": None,
                                  "error": "", "attempt": attempt, "duplicate": duplicate, "at": self.now()}
        with self._cond:
            if self._stopped:
                return None
        if not url:
            record["error"] = "no callback_url"
        else:
            headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua",
                       SIGNATURE_HEADER: signature, SHA1_HEADER: sign_sha1(raw, secret)}
            try:
                session = getattr(self._local, "session", None) or requests.Session()
                self._local.session = session
                answer = session.post(url, data=raw, headers=headers, timeout=float(self.knobs.notification_timeout_s))
                record["status"] = answer.status_code
            except requests.RequestException as exc:
                record["error"] = type(exc).__name__
        with self.lock:
            self.records.append(record)
            limit = self.knobs.max_recorded
            if limit is not None and len(self.records) > 2 * limit:
                del self.records[:-limit]
        return record["status"]
