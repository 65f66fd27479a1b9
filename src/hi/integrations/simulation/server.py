"""A fake provider for simulators and tests: a real HTTP (or HTTPS) server on 127.0.0.1 with routes, a request log and fault knobs."""
from __future__ import annotations

import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

#: Paths under this prefix control the simulator itself and are never subject to faults.
CONTROL_PREFIX = "/_simulator/"
Response = tuple[int, dict[str, str], bytes]
Route = Callable[["FakeRequest"], Response]


@dataclass
class FakeRequest:
    """A request the fake provider received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: Values of a pattern route's `{name}` segments (empty for exact routes).
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body or b"null")


#: The knobs of every simulator's `POST /_simulator/faults` (JSON, partial: a knob left out keeps its value; `"reset": true`
#: first puts every knob back), by name, with what each does. The first four are the standard fault knobs `manage.py
#: hi_quality` checks on every service's simulator: an outage, latency, refused credentials, a rate limit.
KNOBS: dict[str, str] = {
    "status": "answer every request with this HTTP status and {\"error\": \"injected failure\"} (an outage: 503); null clears it",
    "delay_s": "wait this many seconds before answering (latency; longer than the client's timeout: a timeout)",
    "auth_refused": "answer every request 401 {\"error\": \"credentials refused\"}, as a provider that revoked them",
    "rate_limited": "answer every request 429 {\"error\": \"rate limited\"} with Retry-After: retry_after_s",
    "retry_after_s": "the Retry-After, in seconds, of rate_limited answers (default 30)",
    "fail_next": "answer the next N requests with fail_status, then behave",
    "fail_status": "the status of fail_next answers (default 503)",
    "drop": "close the connection without an answer",
    "drip_s": "send the whole answer one byte at a time, this many seconds apart (too slow for any deadline)",
    "extra_headers": "add these headers ({\"name\": \"value\"} strings) to the injected status, auth_refused and rate_limited answers",
}
#: The standard fault knobs every service's simulator must honour.
STANDARD_KNOBS = ("status", "delay_s", "auth_refused", "rate_limited")


def _status(value: Any) -> int | None:
    """An HTTP status 100..599, or None."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599):
        return value
    raise ValueError("an HTTP status 100..599 or null")


def _count(value: Any) -> int:
    """A whole number, zero or more."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("a whole number, 0 or more")


def _seconds(value: Any) -> float:
    """A number of seconds, zero or more."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < float("inf"):
        return float(value)
    raise ValueError("a number of seconds, 0 or more")


def _headers(value: Any) -> dict[str, str]:
    """{header: value}, strings only."""
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return dict(value)
    raise ValueError("an object of header strings")


def _flag(value: Any) -> bool:
    """true or false (no "yes" → True surprises)."""
    if isinstance(value, bool):
        return value
    raise ValueError("true or false")


#: How each knob's JSON value is checked and converted (ValueError: what was expected).
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "status": _status, "delay_s": _seconds, "auth_refused": _flag, "rate_limited": _flag, "retry_after_s": _count,
    "fail_next": _count, "fail_status": lambda value: _status(value) or 503, "drop": _flag, "drip_s": _seconds,
    "extra_headers": _headers,
}


@dataclass
class Faults:
    """Knobs that make the fake provider misbehave on command."""

    #: Answer every request with this status (e.g. 503) until cleared.
    status: int | None = None
    #: Answer the next N requests with `fail_status`, then behave.
    fail_next: int = 0
    fail_status: int = 503
    #: Sleep this long before answering (to provoke timeouts).
    delay_s: float = 0.0
    #: Drop the connection without an answer.
    drop: bool = False
    #: Send the answer (status line, headers, body) one byte at a time, this many seconds apart: a provider so
    #: slow that per-read timeouts never fire.
    drip_s: float = 0.0
    #: Answer every request 401: the provider refuses the credentials (revoked, rotated).
    auth_refused: bool = False
    #: Answer every request 429 with `Retry-After: retry_after_s`: the provider's rate limit.
    rate_limited: bool = False
    retry_after_s: int = 30
    extra_headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Every knob of `POST /_simulator/faults` with its current value."""
        values = {name: getattr(self, name) for name in KNOBS}
        values["extra_headers"] = dict(self.extra_headers)  # a copy: what is shown never changes under the caller
        return values

    @staticmethod
    def parse(knobs: Any) -> dict[str, Any]:
        """Check knobs given as JSON ({name: value}, "reset": true); ValueError naming the first bad one."""
        if not isinstance(knobs, dict):
            raise ValueError("expected a JSON object of knobs")
        unknown = sorted(set(knobs) - set(KNOBS) - {"reset"})
        if unknown:
            raise ValueError(f"unknown knobs: {', '.join(unknown)} (known: {', '.join(KNOBS)}, reset)")
        parsed: dict[str, Any] = {"reset": _flag(knobs.get("reset", False))}
        for name, value in knobs.items():
            if name == "reset":
                continue
            try:
                parsed[name] = _CONVERTERS[name](value)
            except ValueError as exc:
                raise ValueError(f"{name}: expected {exc}") from None
        return parsed

    def apply(self, parsed: dict[str, Any]) -> None:
        """Set knobs checked by parse() (after putting every knob back when `reset` is true)."""
        if parsed.get("reset"):
            for name, value in Faults().as_json().items():
                setattr(self, name, value)
        for name, value in parsed.items():
            if name != "reset":
                setattr(self, name, value)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode()


class FakeProviderServer:
    """Serve `routes` on 127.0.0.1 in a thread; use as a context manager or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        """A server on `host`:`port` (0: any free port), with TLS when given a context; no routes yet."""
        self.routes: dict[tuple[str, str], Route] = {}
        #: Routes with `{name}` segments, keyed like `routes` by (method, template).
        self.patterns: dict[tuple[str, str], tuple[re.Pattern[str], Route]] = {}
        self.requests: list[FakeRequest] = []
        #: Keep only about this many recorded requests (None: all), for long-running simulators.
        self.max_recorded: int | None = None
        self.faults = Faults()
        self._lock = threading.Lock()
        # The control endpoint every simulator shares (a subclass may replace it with one that knows more knobs).
        self.route("GET", f"{CONTROL_PREFIX}faults", self.show_faults)
        self.route("POST", f"{CONTROL_PREFIX}faults", self.set_faults)
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._scheme = "http"
        if ssl_context is not None:
            # The handshake happens in each request's thread, so one slow client does not hold the others.
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
            self._scheme = "https"
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    def route(self, method: str, path: str, handler: Route) -> None:
        """Answer `method path` with `handler(request)`; `{name}` segments match one path segment into `request.params`."""
        if "{" not in path:
            self.routes[(method.upper(), path)] = handler
            return
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
        self.patterns[(method.upper(), path)] = (re.compile(f"^{regex}$"), handler)

    def _route_for(self, request: FakeRequest) -> Route | None:
        """The exact route for the request, else the first matching pattern route (filling `params`)."""
        handler = self.routes.get((request.method, request.path))
        if handler is not None:
            return handler
        for (method, _template), (regex, pattern_handler) in list(self.patterns.items()):
            match = regex.match(request.path) if method == request.method else None
            if match:
                request.params = match.groupdict()
                return pattern_handler
        return None

    def start(self) -> "FakeProviderServer":
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-provider", daemon=True
        )
        self._serving = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (also for a server that never started)."""
        if self._serving:
            self._server.shutdown()
            self._serving = False
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the foreground (for a standalone simulator process)."""
        self._serving = True
        self._server.serve_forever()

    def __enter__(self) -> "FakeProviderServer":
        """Start the server."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop the server."""
        self.stop()

    def show_faults(self, request: FakeRequest) -> Response:
        """GET /_simulator/faults: every knob's current value."""
        return json_response(200, self.faults.as_json())

    def set_faults(self, request: FakeRequest) -> Response:
        """POST /_simulator/faults {knob: value, …, "reset": true}: misbehave on command (400, changing nothing, on a bad knob)."""
        try:
            parsed = self.faults.parse(request.json() if request.body else {})
        except ValueError as exc:
            return json_response(400, {"error": str(exc)})
        with self._lock:
            self.faults.apply(parsed)
        return self.show_faults(request)

    def requests_to(self, path: str) -> list[FakeRequest]:
        """The recorded requests for one path."""
        return [r for r in self.requests if r.path == path]

    def _answer(self, request: FakeRequest) -> Response | None:
        """Apply the fault knobs (except to the control endpoints), then the route."""
        with self._lock:
            self.requests.append(request)
            if self.max_recorded is not None and len(self.requests) > 2 * self.max_recorded:
                del self.requests[: -self.max_recorded]
            faults = self.faults if not request.path.startswith(CONTROL_PREFIX) else Faults()
            if faults.fail_next > 0:
                faults.fail_next -= 1
                return json_response(faults.fail_status, {"error": "injected failure"})
        if faults.delay_s:
            time.sleep(faults.delay_s)
        if faults.drop:
            return None
        if faults.status is not None:
            return json_response(faults.status, {"error": "injected failure"}, faults.extra_headers)
        if faults.auth_refused:
            return json_response(401, {"error": "credentials refused"}, faults.extra_headers)
        if faults.rate_limited:
            return json_response(429, {"error": "rate limited"}, {**faults.extra_headers, "Retry-After": str(faults.retry_after_s)})
        handler = self._route_for(request)
        if handler is None:
            return json_response(404, {"error": f"no route {request.method} {request.path}"})
        return handler(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """A request handler class bound to this server."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            """Turns each HTTP request into a FakeRequest and writes the route's answer."""

            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without TCP_NODELAY a kept-alive
            # connection waits on the client's delayed ACK (~40 ms) at every request.
            disable_nagle_algorithm = True

            def handle(self) -> None:
                """Finish the TLS handshake first, then answer as usual."""
                if isinstance(self.request, ssl.SSLSocket):
                    try:
                        self.request.do_handshake()
                    except (ssl.SSLError, OSError):
                        return  # the client refused the certificate, or left
                super().handle()

            def _handle(self) -> None:
                """Read the request, record it and write the route's answer."""
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                answer = fake._answer(request)
                if answer is None:
                    self.close_connection = True
                    return
                status, headers, payload = answer
                if fake.faults.drip_s and not request.path.startswith(CONTROL_PREFIX):
                    self._drip(status, headers, payload, fake.faults.drip_s)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout under test): nothing left to answer.
                    self.close_connection = True

            def _drip(self, status: int, headers: dict[str, str], payload: bytes, interval_s: float) -> None:
                """Write the whole answer a byte at a time until it is out or the client gives up."""
                head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
                head += [f"{name}: {value}" for name, value in {**headers, "Content-Length": str(len(payload))}.items()]
                raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload
                self.close_connection = True
                try:
                    for index in range(len(raw)):
                        self.wfile.write(raw[index:index + 1])
                        self.wfile.flush()
                        time.sleep(interval_s)
                except OSError:
                    pass  # the client hung up: that is what the test waits for

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet: tests read `fake.requests` instead."""

        return Handler
