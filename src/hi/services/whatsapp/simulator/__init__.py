"""A simulator of Meta's WhatsApp Business Cloud API: a real HTTP server on 127.0.0.1 that also posts signed notifications."""
# `WhatsAppSimulator` serves the Graph endpoints hi calls (graph.py: the phone number, templates with paging,
# media; send.py: the messages endpoint), posts status and customer-message notifications to hi's callback
# from a background thread, escaped and signed the way Meta's are (notify.py), builds customer messages of
# every kind (inbound.py) and takes its knobs through /_simulator/ (control.py). Templates, ids and Meta's
# error table are in data.py. `manage.py hi_simulator whatsapp --port N` runs it through the
# `add_cli_arguments`/`serve_cli` hooks below.
from __future__ import annotations

import hashlib
import random
import secrets
import threading
import time
from typing import Any, Callable

# The simulator is a test tool, so it calls `requests` itself; hi's own code uses hi.integrations.http.
import requests

from hi.integrations.simulation import FakeProviderServer, SimulatedClock

from .control import ControlMixin
from .data import ERROR_STATUSES, default_templates, new_numeric_id, new_wamid, wa_id_of
from .graph import GraphMixin
from .inbound import CUSTOMER_NAMES, build_message
from .notify import Notifier, meta_dumps, pack, sign
from .send import SendMixin

__all__ = ["WhatsAppSimulator", "add_cli_arguments", "meta_dumps", "serve_cli", "sign"]
DEFAULT_ACCESS_TOKEN = "EAAGdemo-system-user-token"
DEFAULT_APP_SECRET = "demo-app-secret"


class WhatsAppSimulator(ControlMixin, GraphMixin, SendMixin, FakeProviderServer):
    """Speaks the WhatsApp Cloud API for tests and the demo; every knob is a plain attribute."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, phone_number_id: str = "106540352242922",
                 display_phone_number: str = "15550783881", verified_name: str = "Cantina da Nonna",
                 quality_rating: str = "GREEN", business_account_id: str = "102290129340398",
                 access_token: str = DEFAULT_ACCESS_TOKEN, app_secret: str = DEFAULT_APP_SECRET,
                 templates: list[dict[str, Any]] | None = None, callback_url: str | None = None,
                 verify_token: str | None = None, seed: int | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        """Defaults describe the demo business; `clock` (unix seconds) drives the 24-hour window and timestamps."""
        super().__init__(host, port)
        self.phone_number_id, self.display_phone_number = phone_number_id, display_phone_number
        self.verified_name, self.business_account_id = verified_name, business_account_id
        self.access_token, self.app_secret, self.verify_token = access_token, app_secret, verify_token
        self.templates = [dict(t) for t in (templates if templates is not None else default_templates())]
        self.rng = random.Random(seed)
        self.clock = SimulatedClock(clock)
        # Knobs (all plain attributes; POST /_simulator/faults sets them in a running process).
        self.quality_rating = quality_rating
        self.callback_url = callback_url
        self.auth_error_status = 401
        self.token_expired = False
        self.error_statuses: dict[int, int] = dict(ERROR_STATUSES)
        self.throughput_limited = 0
        self.pair_rate_limit_s = 0.0
        self.server_error = 0
        self.accept_then_timeout = 0
        self.accept_then_timeout_s = 120.0
        self.duplicate_notifications = False
        self.out_of_order_notifications = False
        self.batch_notifications = 0
        self.undeliverable_numbers: list[str] = []
        self.status_delay_s = 0.05
        self.notifications_paused = False
        self.skip_delivered = False
        self.reply_probability = 0.0
        self.reply_text = "Obrigado!"
        self.signature_mode = "valid"
        self.window_s = 24 * 3600.0
        self.notification_retries = 3
        self.notification_retry_s = 0.5
        self.notification_timeout_s = 10.0
        #: Threads posting notifications: one keeps their order; more post concurrently, as Meta does under load.
        self.notification_workers = 1
        self.token_in_paging_urls = False
        # State, guarded by one re-entrant lock: handlers run on the server's threads, notifications on others.
        self._state = threading.RLock()
        self._halt = threading.Event()
        self.sent: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        #: When each customer (wa_id) last wrote, on the simulator's clock: their 24-hour window.
        self.last_inbound: dict[str, float] = {}
        #: Customers' profile names by wa_id.
        self.customers: dict[str, str] = {}
        self._last_sent_to: dict[str, float] = {}
        self.notifier = Notifier(self, self.envelope, self.now, self.notifications, self._state)
        self.route("GET", "/_media/{media_id}", self.download_media)
        self.route("GET", "/{ver}/{node}", self.get_node)
        self.route("GET", "/{ver}/{node}/message_templates", self.list_templates)
        self.route("POST", "/{ver}/{node}/messages", self.send_message)
        self.add_control_routes()

    # --- clock and lifecycle ----------------------------------------------------------------------

    def now(self) -> float:
        """The simulator's clock: `clock()` plus whatever `advance()` added."""
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock forward (customers' 24-hour windows close)."""
        self.clock.advance(seconds)

    def stop_background(self) -> None:
        """Stop posting notifications and release the answers `accept_then_timeout` is holding back."""
        self.notifier.stop()
        self._halt.set()

    def stop(self) -> None:
        """Stop the background work, then serving."""
        self.stop_background()
        super().stop()

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until every scheduled notification has been posted (or given up on); True when none is left."""
        deadline = time.monotonic() + timeout_s
        while self.notifier.pending() and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.notifier.pending()

    # --- what the Graph endpoints read ------------------------------------------------------------

    def phone_fields(self) -> dict[str, Any]:
        """Every field `GET /{phone_number_id}` can answer."""
        with self._state:
            return {"display_phone_number": self.display_phone_number, "verified_name": self.verified_name,
                    "quality_rating": self.quality_rating, "code_verification_status": "VERIFIED",
                    "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"}, "name_status": "APPROVED",
                    "messaging_limit_tier": "TIER_1K", "status": "CONNECTED"}

    def add_media(self, data: bytes, mime_type: str) -> str:
        """Keep bytes the media endpoints will serve; returns the media id."""
        with self._state:
            media_id = new_numeric_id(self.rng)
            self.media[media_id] = {"data": bytes(data), "mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest()}
        return media_id

    def _store_media(self, data: bytes, mime_type: str) -> tuple[str, str]:
        """add_media for the message builders: (id, sha256)."""
        media_id = self.add_media(data, mime_type)
        return media_id, self.media[media_id]["sha256"]

    # --- notifications ----------------------------------------------------------------------------

    def envelope(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The `whatsapp_business_account` notification around value fragments (packed into entries and changes)."""
        metadata = {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}
        entries = pack(items)
        return {"object": "whatsapp_business_account", "entry": [
            {"id": self.business_account_id, "changes": [
                {"value": {"messaging_product": "whatsapp", "metadata": dict(metadata), **change}, "field": "messages"}
                for change in changes]}
            for changes in entries]}

    def customer_says(self, wa_id: str, text: str, *, name: str = "Maria Silva", kind: str = "text",
                      **extra: Any) -> dict[str, Any]:
        """A customer writes (any kind, see inbound.py): post it, open their 24-hour window; returns the message."""
        return self.say(wa_id, text, name=name, kind=kind, **extra)

    def say(self, wa_id: str, text: str, *, name: str | None = "Maria Silva", kind: str = "text", delay_s: float = 0.0,
            **extra: Any) -> dict[str, Any]:
        """customer_says, `delay_s` later (a `name` of None keeps the customer's known name)."""
        wa_id = wa_id_of(wa_id)
        with self._state:
            now = self.now()
            name = name or self.customers.get(wa_id) or self.rng.choice(CUSTOMER_NAMES)
            self.customers[wa_id] = name
            self.last_inbound[wa_id] = now
            last_sent = next((s["id"] for s in reversed(self.sent) if s["wa_id"] == wa_id), None)
            message = build_message(kind, text, wa_id=wa_id, wamid=new_wamid(self.rng, wa_id), timestamp=int(now),
                                    business_number=self.display_phone_number, store_media=self._store_media,
                                    last_sent_id=last_sent, extra=extra)
        self.notifier.schedule({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}, delay_s)
        return message

    def verify(self, verify_token: str | None = None, mode: str = "subscribe", challenge: str | None = None) -> tuple[int, str]:
        """Meta's GET handshake against `callback_url`: (hi's status, its body); status 0 when it could not connect."""
        if not self.callback_url:
            raise ValueError("no callback_url to verify")
        token = verify_token if verify_token is not None else (self.verify_token or "")
        challenge = challenge if challenge is not None else str(secrets.randbelow(9 * 10**9) + 10**9)
        params = {"hub.mode": mode, "hub.challenge": challenge, "hub.verify_token": token}
        try:
            answer = requests.get(self.callback_url, params=params, timeout=10,
                                  headers={"User-Agent": "facebookplatform/1.0 (+http://developers.facebook.com)"})
        except requests.RequestException as exc:
            return 0, type(exc).__name__
        return answer.status_code, answer.text

    # --- inspection ---------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What GET /_simulator/state shows (credentials only as whether they are set)."""
        with self._state:
            by_status: dict[str, int] = {}
            for record in self.notifications:
                key = str(record["status"] or record["error"])
                by_status[key] = by_status.get(key, 0) + 1
            return {"url": self.url, "now": self.now(), "phone_number_id": self.phone_number_id,
                    "display_phone_number": self.display_phone_number, "verified_name": self.verified_name,
                    "business_account_id": self.business_account_id, "verify_token_set": bool(self.verify_token),
                    "templates": len(self.templates), "sent": len(self.sent), "media": len(self.media),
                    "notifications": {"posted": len(self.notifications), "by_answer": by_status,
                                      "pending": self.notifier.pending()},
                    "customers": {wa_id: {"name": self.customers.get(wa_id, ""), "last_message_at": at}
                                  for wa_id, at in self.last_inbound.items()},
                    "knobs": self.knobs()}


def build(port: int = 0) -> WhatsAppSimulator:
    """The checklist's hook: the Graph API with the demo's phone number, token and app secret, not started."""
    return WhatsAppSimulator(port=port)


def add_cli_arguments(parser: Any) -> None:
    """hi_simulator hook: the WhatsApp simulator's command-line options."""
    parser.add_argument("--callback", default=None, metavar="URL", help="hi's callback URL (/hooks/<id>/) for notifications")
    parser.add_argument("--app-secret", default=DEFAULT_APP_SECRET, help="signs the notifications")
    parser.add_argument("--access-token", default=DEFAULT_ACCESS_TOKEN, help="the token the Graph endpoints accept")
    parser.add_argument("--verify-token", default=None, help="sent in the GET verification handshake")
    parser.add_argument("--reply-probability", type=float, default=0.0, metavar="P",
                        help="chance (0..1) that a customer answers a read template")
    parser.add_argument("--reply-text", default="Obrigado!")
    parser.add_argument("--status-delay", type=float, default=1.0, metavar="S", help="seconds between statuses")
    parser.add_argument("--seed", type=int, default=None)


def serve_cli(port: int, options: dict[str, Any], write: Callable[[str], None]) -> None:
    """hi_simulator hook: build the simulator from the options, say what it serves, serve until interrupted."""
    sim = WhatsAppSimulator(port=port, access_token=options.get("access_token") or DEFAULT_ACCESS_TOKEN,
                            app_secret=options.get("app_secret") or DEFAULT_APP_SECRET,
                            callback_url=options.get("callback"), verify_token=options.get("verify_token"),
                            seed=options.get("seed"))
    sim.max_recorded = 1000  # a long-running demo must not grow its logs forever
    sim.set_knobs({"reply_probability": options.get("reply_probability") or 0.0,
                   "reply_text": options.get("reply_text") or "Obrigado!",
                   "status_delay_s": options.get("status_delay") if options.get("status_delay") is not None else 1.0})
    write(f"WhatsApp simulator on {sim.url} (api_base_url)")
    write(f"  phone number id: {sim.phone_number_id} ({sim.display_phone_number}, {sim.verified_name})")
    write(f"  business account id: {sim.business_account_id}")
    write(f"  access token: {sim.access_token}  app secret: {sim.app_secret}")
    if sim.verify_token:
        write(f"  verify token: {sim.verify_token}")
    write(f"  callback: {sim.callback_url}" if sim.callback_url else
          '  callback: none yet (set it with POST /_simulator/faults {"callback_url": "…"})')
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop_background()
