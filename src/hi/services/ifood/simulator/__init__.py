"""A simulator of iFood's Merchant API: a real HTTP server on 127.0.0.1 speaking its wire format, with fault knobs."""
# The wire facts it follows, each with iFood's public page: docs/services/ifood.md, "What hi relies on".
# `IFoodSimulator` serves the token endpoint, event polling under both prefixes in use with one queue per
# credential, acknowledgment, order details, order actions that queue their follow-up events, cancellation
# reasons, merchant status, and a webhook mode (webhook.py). The Python API and the /_simulator/ control endpoints live in control.py,
# merchant endpoints in merchants.py, orders and actions in orders.py, generated order data in data.py,
# the queues in queues.py, what they share in common.py; none of them imports this module.
# `manage.py hi_simulator ifood --port N` runs it through the `add_cli_arguments`/`serve_cli` hooks below.
from __future__ import annotations

import base64
import json
import math
import random
import secrets
import threading
from typing import Any, Callable
from urllib.parse import parse_qs

from hi.integrations.simulation import FakeProviderServer, FakeRequest, Response, SimulatedClock, json_response

from .common import Caller, Token, ifood_error
from .control import ControlMixin
from .data import CANCELLATION_REASONS, dumps_details, generate_order, iso_utc, new_uuid
from .merchants import MerchantsMixin
from .orders import OrderBook
from .queues import CODES, CredentialQueue, StrikeRule

DEFAULT_CLIENT_ID = "hi-demo-client"
DEFAULT_CLIENT_SECRET = "hi-demo-secret"
#: Two restaurants, by merchant id.
DEFAULT_MERCHANTS = {
    "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a01": "Cantina da Nonna",
    "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a02": "Açaí da Praia",
}
#: Polling and acknowledgment are served under both prefixes in use, from one queue: https://developer.ifood.com.br/pt-BR/docs/guides/modules/events/intro
EVENT_PREFIXES = ("/events/v1.0", "/order/v1.0")
BLOCK_BODY = {
    "code": "429", "message": "Multiple events have been delivered without proper acknowledgment confirmation. Throttling applied."
}


class IFoodSimulator(MerchantsMixin, ControlMixin, FakeProviderServer):
    """Speaks iFood's Merchant API for tests and the demo; every knob is a plain attribute."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, credentials: dict[str, str] | None = None,
                 merchants: dict[str, str] | list[str] | None = None, grants: dict[str, list[str]] | None = None,
                 seed: int | None = None, clock: Callable[[], float] | None = None) -> None:
        """`credentials` {client_id: secret}; `merchants` {id: name} or ids; `grants` {client_id: [merchant ids]} (default: all)."""
        super().__init__(host, port)
        self.credentials = dict(credentials or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        if isinstance(merchants, (list, tuple)):
            merchants = {mid: f"Restaurante {i + 1}" for i, mid in enumerate(merchants)}
        self.merchants = {mid: {"id": mid, "name": name, "state": "OK"} for mid, name in (merchants or DEFAULT_MERCHANTS).items()}
        self.grants = {cid: list((grants or {}).get(cid, list(self.merchants))) for cid in self.credentials}
        self.rng = random.Random(seed)
        self.clock = SimulatedClock(clock)
        # Knobs (all plain attributes; POST /_simulator/faults sets them in a running process).
        self.token_lifetime_s = 21600.0
        self.rate_limit_rpm = 6000
        self.strike_rule = StrikeRule()
        self.retention_s = 8 * 3600.0
        self.max_polling_merchants = 100
        self.max_ack_ids = 2000
        self.poll_limit: int | None = None
        self.presence_window_s = 45.0
        self.duplicates = False
        self.out_of_order = False
        self.details_404_s = 0.0
        self.details_404_requests = 0
        self.refuse_cancellations = False
        self.ifood_delivery_share = 0.2
        #: The demo's customers' own numbers: iFood itself gives a masked 0800 number and a localizer, which no
        #: WhatsApp message can reach; with numbers here, placed orders carry one of them instead.
        self.customer_phones: list[str] = []
        self.auto_conclude_s: float | None = None
        self.auto_cancel_unconfirmed_s: float | None = None
        self.webhook_bad_signature = False
        self.webhook_spaced_body = False
        # State, guarded by one re-entrant lock: handlers run on the server's threads.
        self._state = threading.RLock()
        self._tokens: dict[str, Token] = {}
        self._queues = {cid: CredentialQueue(cid) for cid in self.credentials}
        self._last_seen: dict[str, float] = {}
        self._last_event_at = 0.0
        self.book = OrderBook(self)
        self.webhook = None
        self._placer: threading.Thread | None = None
        self._placer_stop = threading.Event()
        self.placing_every_s: float | None = None
        self.route("POST", "/authentication/v1.0/oauth/token", self.token)
        for prefix in EVENT_PREFIXES:
            for polling in ("events:polling", "events%3Apolling", "events%3apolling"):
                self.route("GET", f"{prefix}/{polling}", self.poll)
            self.route("POST", f"{prefix}/events/acknowledgment", self.acknowledge)
        self.route("GET", "/order/v1.0/orders/{order_id}", self.order_details)
        self.route("GET", "/order/v1.0/orders/{order_id}/cancellationReasons", self.cancellation_reasons)
        self.route("POST", "/order/v1.0/orders/{order_id}/{action}", self.book.action)
        self.route("GET", "/merchant/v1.0/merchants", self.list_merchants)
        self.route("GET", "/merchant/v1.0/merchants/{merchant_id}", self.merchant)
        self.route("GET", "/merchant/v1.0/merchants/{merchant_id}/status", self.merchant_status)
        self.route("GET", "/merchant/v1.0/merchants/{merchant_id}/status/{operation}", self.merchant_status)
        self.add_control_routes()

    # --- clock and tokens -------------------------------------------------------------------------

    def now(self) -> float:
        """The simulator's clock: `clock()` plus whatever `advance()` added."""
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock forward (tokens expire, strikes lapse, blocks end, presence fades)."""
        self.clock.advance(seconds)

    def expire_tokens(self) -> None:
        """Invalidate every issued token (the next call with one gets 401)."""
        with self._state:
            self._tokens.clear()

    def token(self, request: FakeRequest) -> Response:
        """POST /authentication/v1.0/oauth/token: form-encoded camelCase client credentials."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id, secret = form.get("clientId", ""), form.get("clientSecret", "")
        if form.get("grantType") != "client_credentials":
            # Centralized apps only: authorization_code / refresh_token belong to distributed apps.
            return ifood_error(400, "BadRequest", "grantType must be client_credentials")
        if not client_id or self.credentials.get(client_id) != secret:
            return ifood_error(401, "Unauthorized", "Bad credentials")
        header = base64.urlsafe_b64encode(b'{"alg":"RS512","typ":"JWT"}').rstrip(b"=").decode()
        with self._state:
            now = self.now()
            claims = json.dumps({"sub": client_id, "app_name": "hi", "iat": int(now), "exp": int(now + self.token_lifetime_s),
                                 "merchant_scope": self.grants[client_id][:20], "jti": secrets.token_hex(8)})
            payload = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()
            access = f"{header}.{payload}.{secrets.token_urlsafe(512)}"
            self._tokens[access] = Token(client_id=client_id, expires_at=now + self.token_lifetime_s)
        return json_response(200, {"accessToken": access, "type": "bearer", "expiresIn": int(self.token_lifetime_s)})

    def _authorize(self, request: FakeRequest) -> Caller | Response:
        """The caller of a bearer-token request, or the 401/429 to answer; counts the per-token rate limit."""
        scheme, _, access = request.headers.get("authorization", "").partition(" ")
        with self._state:
            now = self.now()
            token = self._tokens.get(access.strip()) if scheme.lower() == "bearer" else None
            if token is None or token.expires_at <= now:
                return ifood_error(401, "Unauthorized", "Invalid or expired token")
            if now - token.window_start >= 60:
                token.window_start, token.window_count = now, 0
            token.window_count += 1
            limit = self.rate_limit_rpm
            headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - token.window_count)),
                       "X-RateLimit-Reset": str(max(0, math.ceil(token.window_start + 60 - now)))}
            if token.window_count > limit:
                return ifood_error(429, "TooManyRequests", "Rate limit exceeded", headers)
            return Caller(client_id=token.client_id, headers=headers)

    # --- events -----------------------------------------------------------------------------------

    def _event_time(self) -> float:
        """Event creation times strictly increase, even at microsecond resolution, so sorting by `createdAt` is well defined."""
        at = max(self.now(), self._last_event_at + 2e-6)
        self._last_event_at = at
        return at

    def emit(self, order_id: str, merchant_id: str, code: str, metadata: dict | None = None) -> dict:
        """Queue an event for every credential covering the merchant (and the webhook, when configured)."""
        with self._state:
            event = {"id": new_uuid(self.rng), "code": code, "fullCode": CODES.get(code, (code, ""))[0],
                     "orderId": order_id, "merchantId": merchant_id, "createdAt": iso_utc(self._event_time()),
                     "salesChannel": "IFOOD", "metadata": dict(metadata or {})}
            now = self.now()
            for client_id, merchants in self.grants.items():
                if merchant_id in merchants:
                    self._queues[client_id].add(event, now)
            sender = self.webhook
            if sender is not None and merchant_id in self.grants.get(sender.config.client_id, []):
                for _ in range(2 if self.duplicates else 1):
                    sender.enqueue(event)
            return event

    def _polled_merchants(self, request: FakeRequest, client_id: str) -> set[str] | Response:
        """The merchants a poll asks for (x-polling-merchants), or the 400/403 iFood answers."""
        granted = self.grants[client_id]
        header = request.headers.get("x-polling-merchants", "").strip()
        if not header:
            if len(granted) > 500:
                return ifood_error(400, "BadRequest", "x-polling-merchants is required above 500 merchants")
            return set(granted)
        ids = [m.strip() for m in header.split(",") if m.strip()]
        if len(ids) > self.max_polling_merchants:
            return ifood_error(400, "BadRequest", "Bad request. Too many polling merchants")
        unauthorized = [m for m in ids if m not in granted]
        if unauthorized:
            return json_response(403, {"unauthorizedMerchants": unauthorized})
        return set(ids)

    def poll(self, request: FakeRequest) -> Response:
        """GET …/events:polling: the credential's un-ACKed events (200 array) or 204 when there are none."""
        caller = self._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        with self._state:
            polled = self._polled_merchants(request, caller.client_id)
            if not isinstance(polled, set):
                return polled
            now = self.now()
            self.book.sweep(now)
            queue = self._queues[caller.client_id]
            if queue.blocked(now):
                return json_response(429, BLOCK_BODY, caller.headers)

            def csv(name: str) -> set[str]:
                """A comma-separated query filter's values, upper case."""
                return {v.strip().upper() for raw in request.query.get(name, []) for v in raw.split(",") if v.strip()}

            events = queue.take(now, merchants=polled, types=csv("types"), groups=csv("groups"), rule=self.strike_rule,
                                retention_s=self.retention_s, limit=self.poll_limit)
            if self.duplicates and events:
                old = queue.old_placed(polled)
                events = [e for e in events for _ in range(2)] + ([old] if old else [])
            if self.out_of_order:
                self.rng.shuffle(events)
            if request.query.get("excludeHeartbeat", [""])[0].lower() != "true":
                for merchant_id in polled:
                    self._last_seen[merchant_id] = now
        if not events:
            return 204, caller.headers, b""
        return json_response(200, events, caller.headers)

    def acknowledge(self, request: FakeRequest) -> Response:
        """POST …/events/acknowledgment: a JSON array of {"id"} (whole events accepted; only `id` is read) → 202."""
        caller = self._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in body):
            return ifood_error(400, "BadRequest", 'Expected a JSON array of {"id": "<event id>"}', caller.headers)
        if len(body) > self.max_ack_ids:
            # iFood's pages disagree (2,000 on the concepts page, 10,000 and 413 in the API reference): enforce the lower.
            return ifood_error(413, "PayloadTooLarge", f"At most {self.max_ack_ids} events per acknowledgment", caller.headers)
        with self._state:
            self._queues[caller.client_id].ack([e["id"] for e in body])
        return 202, caller.headers, b""

    # --- orders -----------------------------------------------------------------------------------

    def order_details(self, request: FakeRequest) -> Response:
        """GET /order/v1.0/orders/{id}: the details (BRL decimals); 404 for unknown ids and right after PLC when asked."""
        caller = self._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        with self._state:
            order = self.book.visible(request.params["order_id"], caller.client_id)
            if order is None or not self.book.details_ready(order, self.now()):
                return ifood_error(404, "NotFound", "Order not found", caller.headers)
            body = dumps_details(order.details)
        return 200, {"Content-Type": "application/json", **caller.headers}, body

    def cancellation_reasons(self, request: FakeRequest) -> Response:
        """GET /order/v1.0/orders/{id}/cancellationReasons: the codes requestCancellation accepts now."""
        caller = self._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        with self._state:
            order = self.book.visible(request.params["order_id"], caller.client_id)
            if order is None:
                return ifood_error(404, "NotFound", "Order not found", caller.headers)
            reasons = [] if order.terminal else CANCELLATION_REASONS
        return json_response(200, reasons, caller.headers)

    def place_order(self, merchant_id: str | None = None, *, order_type: str | None = None, payment: str | None = None,
                    delivered_by: str | None = None, bad_totals: bool = False,
                    tweak: Callable[[dict], None] | None = None) -> str:
        """Place an order as a customer would (its details exist, a PLC is queued); return the order id."""
        # `order_type` DELIVERY/TAKEOUT/DINE_IN, `payment` CASH/CREDIT/PIX/SPLIT, `delivered_by` IFOOD/MERCHANT
        # (random when None); `bad_totals` makes orderAmount 0.10 more than the parts; `tweak(details)` edits anything.
        with self._state:
            merchant = self.merchants[merchant_id] if merchant_id else self.rng.choice(list(self.merchants.values()))
            details = generate_order(self.rng, merchant=merchant, now=self.now(), order_type=order_type, payment=payment,
                                     delivered_by=delivered_by, ifood_delivery_share=self.ifood_delivery_share,
                                     bad_totals=bad_totals)
            if self.customer_phones:
                details["customer"]["phone"] = {"number": self.rng.choice(self.customer_phones)}
            if tweak is not None:
                tweak(details)
            self.book.add(details, merchant["id"], self.now())
            self.emit(details["id"], merchant["id"], "PLC")
            return details["id"]

    def place_orders(self, n: int, **options: Any) -> list[str]:
        """Place `n` orders (same options as place_order)."""
        return [self.place_order(**options) for _ in range(n)]


def build(port: int = 0) -> IFoodSimulator:
    """The checklist's hook: the Merchant API with the default credential and its two stores, not started."""
    return IFoodSimulator(port=port)


def add_cli_arguments(parser: Any) -> None:
    """hi_simulator hook: the iFood simulator's command-line options."""
    parser.add_argument("--place-every", type=float, default=None, metavar="S", help="place a new order every S seconds")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--merchant", action="append", default=None, metavar="ID", help="a merchant id (repeatable)")
    parser.add_argument("--webhook-url", default=None, help="deliver events by signed webhook to this URL")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--customer-phone", action="append", default=None, metavar="NUMBER",
                        help="a customer's own number for placed orders instead of iFood's masked 0800 one (repeatable; the WhatsApp demo)")


def serve_cli(port: int, options: dict[str, Any], write: Callable[[str], None]) -> None:
    """hi_simulator hook: build the simulator from the options, say what it serves, serve until interrupted."""
    sim = IFoodSimulator(port=port, credentials={options["client_id"]: options["client_secret"]},
                         merchants=options.get("merchant") or None, seed=options.get("seed"))
    sim.max_recorded = 1000  # a long-running demo must not grow its request log forever
    sim.auto_conclude_s = 120.0
    sim.customer_phones = list(options.get("customer_phone") or [])
    write(f"iFood simulator on {sim.url}")
    write(f"  client id: {options['client_id']}  client secret: {options['client_secret']}")
    for merchant in sim.merchants.values():
        write(f"  merchant: {merchant['id']} ({merchant['name']})")
    if options.get("webhook_url"):
        sim.configure_webhook(options["webhook_url"], client_id=options["client_id"])
        write(f"  webhook: {options['webhook_url']}")
    if options.get("place_every"):
        sim.start_placing(options["place_every"])
        write(f"  placing a new order every {options['place_every']:g} s")
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop_background()
