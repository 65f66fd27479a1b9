"""A simulator of Airtime vouchers's API: a real HTTP server on 127.0.0.1 speaking a small example API, with the standard fault knobs."""
# Replace the example routes with Airtime vouchers's real wire format as you learn it; tests and
# `manage.py hi_simulator airtime` run this, never the real provider.
from __future__ import annotations

from typing import Callable

from hi.integrations.simulation import FakeProviderServer, FakeRequest, Response, json_response

#: API key → the account it belongs to.
DEFAULT_KEYS = {"example-key": {"id": "acct-example", "name": "Example account"}}


class AirtimeSimulator(FakeProviderServer):
    """Speaks Airtime vouchers's example API: the account, and a control endpoint for faults."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """A simulator on a free port (port 0), knowing the example account."""
        super().__init__(host, port)
        self.keys = {key: dict(account) for key, account in DEFAULT_KEYS.items()}
        self.route("GET", "/api/v1/account", self.account)
        self.route("GET", "/_simulator/faults", self.show_faults)
        self.route("POST", "/_simulator/faults", self.set_faults)

    def _account_for(self, request: FakeRequest) -> dict | None:
        """The account the request is made for, or None when its credentials are unknown."""
        return self.keys.get(request.headers.get("x-api-key", ""))

    def account(self, request: FakeRequest) -> Response:
        """GET /api/v1/account: who the credentials belong to."""
        account = self._account_for(request)
        if account is None:
            return json_response(401, {"error": "unknown credentials"})
        return json_response(200, account)

    def show_faults(self, request: FakeRequest) -> Response:
        """GET /_simulator/faults: the current knobs."""
        faults = self.faults
        return json_response(200, {
            "status": faults.status, "fail_next": faults.fail_next, "delay_s": faults.delay_s,
            "retry_after": faults.extra_headers.get("Retry-After"),
        })

    def set_faults(self, request: FakeRequest) -> Response:
        """POST /_simulator/faults {"status", "fail_next", "delay_s", "retry_after"}: an outage (503), refused credentials (401), a rate limit (429 with Retry-After), latency."""
        try:
            knobs = request.json() or {}
            status, retry_after = knobs.get("status"), knobs.get("retry_after")
            if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
                raise ValueError("status")
            if retry_after is not None and not (isinstance(retry_after, int) and retry_after >= 0):
                raise ValueError("retry_after")
            fail_next, delay_s = int(knobs.get("fail_next", 0)), float(knobs.get("delay_s", 0))
        except (ValueError, TypeError, AttributeError):
            return json_response(400, {"error": "expected {status: 100..599 or null, fail_next: int, delay_s: number, retry_after: seconds or null}"})
        self.faults.status, self.faults.fail_next, self.faults.delay_s = status, fail_next, delay_s
        self.faults.extra_headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return self.show_faults(request)


def serve_cli(port: int, options: dict, write: Callable[[str], None]) -> None:
    """hi_simulator hook: serve Airtime vouchers's example API until interrupted."""
    simulator = AirtimeSimulator(port=port)
    write(f"Airtime vouchers simulator on {simulator.url} (API key: example-key)")
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
