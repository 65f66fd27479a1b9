"""Receive hi's webhooks in Python: check the signature over the raw body with `standardwebhooks`, then use the event.

    pip install standardwebhooks
    HI_WEBHOOK_SECRET=whsec_... python receiver.py      # listens on 127.0.0.1:8000 (PORT=... to change)
"""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify(secret: str, body: bytes, headers) -> dict:
    """The event in `body` once its signature checks out under `secret`; WebhookVerificationError otherwise.

    `body` is the bytes as received. hi escapes non-ASCII ("José" is sent as "Jos\\u00e9"), so a body
    parsed and serialised again is no longer what hi signed.
    """
    try:
        return Webhook(secret).verify(body, dict(headers))
    except (ValueError, UnicodeDecodeError) as exc:  # a malformed signature header or body
        raise WebhookVerificationError(str(exc)) from None


def handle(event: dict) -> None:
    """Your code goes here; this prints each event as one JSON line."""
    print(json.dumps(event), flush=True)


class Receiver(BaseHTTPRequestHandler):
    """POST: 204 once the event is verified (and handled), 401 when the signature does not check out."""

    seen: set = set()  # webhook-id of handled events: a retry or a resend repeats it
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = verify(os.environ["HI_WEBHOOK_SECRET"], body, self.headers)
        except WebhookVerificationError:
            self.send_response(401)  # hi says: "refused the signature"
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"invalid signature")
            return
        with self.lock:
            first = self.headers["webhook-id"] not in self.seen
            self.seen.add(self.headers["webhook-id"])
        if first:
            handle(event)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        """Quiet: standard output carries the events."""


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Receiver)
    print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()
