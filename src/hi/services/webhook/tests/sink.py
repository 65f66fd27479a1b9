"""A local webhook receiver for the tests that checks like the recipes: its own header authentication, then the signature."""
from __future__ import annotations

from hi.integrations.testing import FakeProviderServer
from hi.integrations.testing.fakeserver import json_response

from .recipes import python_recipe

PATH = "/hook"
#: What n8n's Header Auth answers (403) when the header is missing or wrong.
HEADER_AUTH_REFUSAL = "Authorization data is wrong!"


class WebhookSink(FakeProviderServer):
    """Receives deliveries on /hook. With `header` (name, value), refuses (403) a request without that header,
    as n8n's Header Auth does; with `secret`, refuses (401) what does not verify under it, with the Python
    recipe's own `verify`, over the raw body."""

    def __init__(self, secret: str | None = None, header: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.header = header
        self.route("POST", PATH, self.receive)

    @property
    def endpoint(self) -> str:
        """The URL an integration delivers to."""
        return f"{self.url}{PATH}"

    def receive(self, request):
        if self.header is not None and request.headers.get(self.header[0].lower()) != self.header[1]:
            return 403, {"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="Webhook"'}, HEADER_AUTH_REFUSAL.encode()
        if self.secret is not None:
            recipe = python_recipe()
            try:
                recipe.verify(self.secret, request.body, request.headers)
            except recipe.WebhookVerificationError:
                return json_response(401, {"error": "invalid signature"})
        return json_response(200, {"ok": True})

    def deliveries(self) -> list:
        """Recorded POSTs to /hook that are not pings."""
        return [r for r in self.requests_to(PATH) if r.json().get("type") != "ping"]

    def pings(self) -> list:
        """Recorded pings to /hook."""
        return [r for r in self.requests_to(PATH) if r.json().get("type") == "ping"]
