"""What the WhatsApp simulator's tests share: a fake clock, a local callback receiver, a Graph client, fixtures."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any, Iterator

import pytest
import requests

from hi.integrations.testing.fakeserver import FakeProviderServer, FakeRequest, Response, json_response
from hi.services.whatsapp.simulator import WhatsAppSimulator

TOKEN, SECRET, VERIFY = "EAAGtest-token", "test-app-secret", "test-verify-token"
PHONE_ID, WABA = "106540352242922", "102290129340398"
CUSTOMER = "5511999998888"
FIRST_NAME_ORDER_TOTAL_STORE = ["José", "#1234", "R$ 42,90", "Cantina da Nonna"]


class Clock:
    """A fake clock (unix seconds) the simulator reads; tests move it by hand."""

    def __init__(self) -> None:
        """A clock at a fixed time."""
        self.t = 1_750_000_000.0

    def __call__(self) -> float:
        """The clock's time."""
        return self.t


class Receiver(FakeProviderServer):
    """A tiny callback in Meta's style: GET verification with a token, POSTs checked over the raw bytes, then stored."""

    def __init__(self, verify_token: str = VERIFY, secret: str = SECRET) -> None:
        """A receiver with `verify_token` and `secret`, answering 200 unless told otherwise."""
        super().__init__()
        self.verify_token, self.secret = verify_token, secret
        #: Statuses to answer the next POSTs with (then 200).
        self.answers: list[int] = []
        self.route("GET", "/hook", self.handshake)
        self.route("POST", "/hook", self.receive)

    @property
    def hook(self) -> str:
        """The callback URL."""
        return f"{self.url}/hook"

    def handshake(self, request: FakeRequest) -> Response:
        """200 with the raw challenge for `subscribe` and the right token; 403 otherwise."""
        query = {key: values[0] for key, values in request.query.items()}
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == self.verify_token:
            return 200, {"Content-Type": "text/plain"}, query.get("hub.challenge", "").encode()
        return 403, {"Content-Type": "text/plain"}, b"forbidden"

    def receive(self, request: FakeRequest) -> Response:
        """401 on a bad signature, else the next queued answer (200 by default)."""
        if not self.signed(request):
            return json_response(401, {"error": "bad signature"})
        return json_response(self.answers.pop(0) if self.answers else 200, {})

    def signed(self, request: FakeRequest) -> bool:
        """Whether the X-Hub-Signature-256 matches the exact bytes received."""
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected)

    def posts(self) -> list[FakeRequest]:
        """The notifications received, in arrival order."""
        return [r for r in self.requests_to("/hook") if r.method == "POST"]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        """Every status received (optionally of one message), in arrival order."""
        return [status for post in self.posts() for entry in post.json()["entry"] for change in entry["changes"]
                for status in change["value"].get("statuses", []) if wamid is None or status["id"] == wamid]

    def messages(self) -> list[dict[str, Any]]:
        """Every customer message received, in arrival order."""
        return [message for post in self.posts() for entry in post.json()["entry"] for change in entry["changes"]
                for message in change["value"].get("messages", [])]


class Graph:
    """A client of the simulator's Graph API holding the access token."""

    def __init__(self, sim: WhatsAppSimulator, version: str = "v23.0", token: str = TOKEN) -> None:
        """A session on `sim`'s Graph API `version` with `token`."""
        self.sim, self.version = sim, version
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET a Graph API path."""
        return self.session.get(f"{self.sim.url}/{self.version}/{path.lstrip('/')}", timeout=kwargs.pop("timeout", 5), **kwargs)

    def send(self, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        """POST a message to send."""
        return self.session.post(f"{self.sim.url}/{self.version}/{PHONE_ID}/messages", json=body,
                                 timeout=kwargs.pop("timeout", 5), **kwargs)

    def control(self, knobs: dict[str, Any]) -> requests.Response:
        """Set the simulator's fault knobs."""
        return requests.post(f"{self.sim.url}/_simulator/faults", json=knobs, timeout=5)


def text_body(text: str, to: str = CUSTOMER) -> dict[str, Any]:
    """A free-form text send."""
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": text}}


def template_body(name: str = "order_confirmed", params: list[str] | None = None, to: str = CUSTOMER,
                  language: str = "pt_BR") -> dict[str, Any]:
    """A template send with body parameters."""
    values = FIRST_NAME_ORDER_TOTAL_STORE if params is None else params
    return {"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": name, "language": {"policy": "deterministic", "code": language},
                         "components": [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]}}


def error_of(answer: requests.Response) -> dict[str, Any]:
    """The Graph error envelope's `error`, checking its shape."""
    error = answer.json()["error"]
    assert {"message", "type", "code", "error_data", "fbtrace_id"} <= set(error), error
    return error


@pytest.fixture
def clock() -> Clock:
    """A clock at a fixed time."""
    return Clock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver, stopped after the test."""
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def sim(clock: Clock, receiver: Receiver) -> Iterator[WhatsAppSimulator]:
    """A simulator posting to the receiver, on the fake clock."""
    server = WhatsAppSimulator(access_token=TOKEN, app_secret=SECRET, verify_token=VERIFY, callback_url=receiver.hook,
                               seed=13, clock=clock).start()
    server.notification_retry_s = 0.05
    yield server
    server.stop()


@pytest.fixture
def graph(sim: WhatsAppSimulator) -> Graph:
    """A Graph API session on the simulator."""
    return Graph(sim)
