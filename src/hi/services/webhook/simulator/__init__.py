"""The endpoint a webhook integration delivers to, simulated: a real HTTP server on 127.0.0.1 verifying Standard Webhooks signatures."""
# The webhooks service's "provider" is the receiver of its deliveries. This one checks each POST to /hook as the
# Standard Webhooks specification says a receiver must (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
# the three headers, a timestamp within five minutes, and a v1 signature, base64 HMAC-SHA256 of
# "<webhook-id>.<webhook-timestamp>.<body>" under the secret's base64-decoded bytes. It is written here from the
# specification, not with hi's own signing code, so a test against it checks hi against an independent reading.
# `manage.py hi_simulator webhook --port N [--secret whsec_…]` serves it.
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Any, Callable

from hi.integrations.simulation import FakeProviderServer, FakeRequest, Response, json_response

#: The secret the simulator verifies with unless told another: "whsec_" and the base64 of 32 bytes.
DEFAULT_SECRET = "whsec_aGktc2ltdWxhdGVkLXdlYmhvb2stcmVjZWl2ZXItMzI="
PATH = "/hook"
#: How old (or how far ahead) a webhook-timestamp may be, as the specification's reference libraries allow.
TOLERANCE_S = 300


def signature_problem(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> str:
    """Why a delivery does not verify under `secret` ('' when it does); `headers` have lower-case names."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and stamp and signatures):
        return "a webhook-id, webhook-timestamp or webhook-signature header is missing"
    if not stamp.isdigit() or abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE_S:
        return "webhook-timestamp is not within five minutes of now"
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        return "the simulator's secret is not whsec_ and base64"
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    offered = [entry.partition(",")[2] for entry in signatures.split(" ") if entry.startswith("v1,")]
    if not any(hmac.compare_digest(expected, signature) for signature in offered):
        return "no v1 signature matches the body under the secret"
    return ""


def parsed(request: FakeRequest) -> Any:
    """A recorded request's JSON body, or None when it is not JSON."""
    try:
        return request.json()
    except ValueError:
        return None


def is_ping(body: Any) -> bool:
    """Whether a received body is hi's ping (connection tests and activations) rather than a delivery."""
    return isinstance(body, dict) and body.get("type") == "ping"


class EndpointSimulator(FakeProviderServer):
    """Receives deliveries on /hook: 401 when one does not verify under `secret` (None accepts any), else 200."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, secret: str | None = DEFAULT_SECRET) -> None:
        """A receiver on `host`:`port` verifying under `secret` (None: accepting any)."""
        super().__init__(host, port)
        self.secret = secret
        self.route("POST", PATH, self.receive)
        self.route("GET", "/_simulator/deliveries", self.show_deliveries)

    @property
    def endpoint(self) -> str:
        """The URL an integration delivers to."""
        return f"{self.url}{PATH}"

    def receive(self, request: FakeRequest) -> Response:
        """POST /hook: verify the signature, then acknowledge."""
        if self.secret is not None:
            problem = signature_problem(self.secret, request.headers, request.body)
            if problem:
                return json_response(401, {"error": "invalid signature", "reason": problem})
        return json_response(200, {"ok": True})

    def received(self) -> list[dict | None]:
        """Every POST to /hook, parsed (a body that is not JSON as None)."""
        return [parsed(request) for request in self.requests_to(PATH)]

    def deliveries(self) -> list[FakeRequest]:
        """Recorded POSTs to /hook that are not pings."""
        # Each request is parsed from the same snapshot, so a POST arriving meanwhile cannot pair a body with another request.
        return [request for request in self.requests_to(PATH) if not is_ping(parsed(request))]

    def pings(self) -> list[FakeRequest]:
        """Recorded pings to /hook."""
        return [request for request in self.requests_to(PATH) if is_ping(parsed(request))]

    def show_deliveries(self, request: FakeRequest) -> Response:
        """GET /_simulator/deliveries: the bodies received on /hook, latest last."""
        return json_response(200, {"received": self.received()[-100:]})


def build(port: int = 0) -> EndpointSimulator:
    """The checklist's hook: an endpoint that verifies with the default secret, not started."""
    return EndpointSimulator(port=port)


def add_cli_arguments(parser: Any) -> None:
    """hi_simulator hook: the secret the endpoint verifies with."""
    parser.add_argument("--secret", default=DEFAULT_SECRET, help="the Standard Webhooks secret (whsec_…) to verify with")


def serve_cli(port: int, options: dict[str, Any], write: Callable[[str], None]) -> None:
    """hi_simulator hook: serve the endpoint until interrupted."""
    simulator = EndpointSimulator(port=port, secret=options.get("secret") or DEFAULT_SECRET)
    simulator.max_recorded = 1000  # a long-running demo must not grow its request log forever
    received = f"{simulator.url}/_simulator/deliveries"
    write(f"Webhook endpoint simulator on {simulator.endpoint} (secret {simulator.secret}; received: {received})")
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
