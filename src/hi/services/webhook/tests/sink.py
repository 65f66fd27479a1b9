"""A local webhook receiver for the tests: verifies with the standardwebhooks reference library."""
from __future__ import annotations

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response

PATH = "/hook"


class WebhookSink(FakeProviderServer):
    """Receives deliveries on /hook; with `secret` set, refuses (401) what does not verify."""

    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.route("POST", PATH, self.receive)

    @property
    def endpoint(self) -> str:
        """The URL an integration delivers to."""
        return f"{self.url}{PATH}"

    def receive(self, request):
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(request.body, request.headers)
            except WebhookVerificationError:
                return json_response(401, {"error": "bad signature"})
        return json_response(200, {"ok": True})

    def deliveries(self) -> list:
        """Recorded POSTs to /hook that are not pings."""
        return [r for r in self.requests_to(PATH) if r.json().get("type") != "ping"]
