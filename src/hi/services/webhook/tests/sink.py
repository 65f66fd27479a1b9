"""A local webhook receiver for the tests that checks like the recipes: its own header authentication, then the signature."""
from __future__ import annotations

from hi.integrations.testing import FakeRequest, json_response
from hi.services.webhook.simulator import PATH, EndpointSimulator

from .recipes import python_recipe

__all__ = ["HEADER_AUTH_REFUSAL", "PATH", "WebhookSink"]
#: What n8n's Header Auth answers (403) when the header is missing or wrong.
HEADER_AUTH_REFUSAL = "Authorization data is wrong!"


class WebhookSink(EndpointSimulator):
    """The service's simulator, verifying with the Python recipe's `verify` (when given a `secret`) after n8n's Header Auth (`header`)."""

    def __init__(self, secret: str | None = None, header: tuple[str, str] | None = None) -> None:
        """A sink verifying under `secret` when given, behind the Header Auth `header` when given."""
        super().__init__(secret=secret)
        self.header = header

    def receive(self, request: FakeRequest):
        """403 without the header (as n8n's Header Auth), 401 for what the recipe does not verify, else 200."""
        if self.header is not None and request.headers.get(self.header[0].lower()) != self.header[1]:
            return 403, {"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="Webhook"'}, HEADER_AUTH_REFUSAL.encode()
        if self.secret is not None:
            recipe = python_recipe()
            try:
                recipe.verify(self.secret, request.body, request.headers)
            except recipe.WebhookVerificationError:
                return json_response(401, {"error": "invalid signature"})
        return json_response(200, {"ok": True})
