"""The iFood simulator's side doors: the Python API tests use and the /_simulator/ control endpoints."""
from __future__ import annotations

import threading
from typing import Any, Callable

from hi.integrations.simulation import KNOBS, FakeRequest, Response, bad_request, control_body, json_response, strict

from .orders import IllegalAction
from .webhook import WebhookConfig, WebhookSender

#: POST /_simulator/faults keys that set a simulator attribute of the same name.
SIM_KNOBS: dict[str, Callable[[Any], Any]] = {
    "duplicates": strict(bool), "out_of_order": strict(bool), "details_404_s": strict(float),
    "details_404_requests": strict(int), "rate_limit_rpm": strict(int), "token_lifetime_s": strict(float),
    "presence_window_s": strict(float), "retention_s": strict(float), "max_polling_merchants": strict(int),
    "max_ack_ids": strict(int), "poll_limit": strict(int, optional=True), "refuse_cancellations": strict(bool),
    "ifood_delivery_share": strict(float), "auto_conclude_s": strict(float, optional=True),
    "auto_cancel_unconfirmed_s": strict(float, optional=True), "webhook_bad_signature": strict(bool),
    "webhook_spaced_body": strict(bool),
}
#: Keys that set the strike rule (`sim.strike_rule.<attribute>`).
STRIKE_KNOBS = {"strike_deliveries": ("deliveries", strict(int)), "strike_ttl_s": ("ttl_s", strict(float)),
                "strike_block_at": ("block_at", strict(int)), "strike_block_s": ("block_s", strict(float)),
                "strike_cooldown_s": ("cooldown_s", strict(float))}
#: Keys that set the inherited `sim.faults` (the standard knobs every simulator has: hi.integrations.simulation.KNOBS).
FAULT_KNOBS = (*KNOBS, "reset")


class ControlMixin:
    """Python API and control endpoints; mixed into IFoodSimulator (which provides the state it reads)."""

    _state: Any
    _queues: dict
    merchants: dict
    grants: dict
    now: Callable[[], float]
    book: Any
    webhook: WebhookSender | None
    _placer: threading.Thread | None
    _placer_stop: threading.Event
    placing_every_s: float | None

    # --- Python API ---------------------------------------------------------------------------------

    @property
    def orders(self) -> dict[str, dict]:
        """Order details by order id (the live dicts; BRL amounts are Decimals)."""
        with self._state:
            return {order_id: order.details for order_id, order in self.book.orders.items()}

    def order_status(self, order_id: str) -> str:
        """The order's iFood status: PLACED, CONFIRMED, PREPARATION_STARTED, READY_TO_PICKUP, DISPATCHED, CONCLUDED, CANCELLED."""
        with self._state:
            return self.book.get(order_id).status

    def unacked(self, client_id: str) -> list[dict]:
        """The credential's events still waiting for an ACK, in queue order."""
        with self._state:
            return [d.event for d in self._queues[client_id].pending.values()]

    def acked_ids(self, client_id: str) -> list[str]:
        """Event ids the credential acknowledged (including auto-ACKs by filter or strike), in order."""
        with self._state:
            return list(self._queues[client_id].acked)

    def events(self, client_id: str) -> list[dict]:
        """Every event ever queued for the credential, in order."""
        with self._state:
            return list(self._queues[client_id].history)

    def strikes(self, client_id: str) -> int:
        """The credential's live ACK-failure strikes."""
        with self._state:
            return self._queues[client_id].strikes(self.now(), self.strike_rule)

    def blocked(self, client_id: str) -> bool:
        """Whether the strike rule blocks the credential's polling right now."""
        with self._state:
            return self._queues[client_id].blocked(self.now())

    def customer_requests_cancellation(self, order_id: str, reason_code: str = "CONSUMER_CANCELLATION_REQUESTED",
                                       details: str = "O pedido está demorando muito", origin: str = "CONSUMER") -> dict:
        """The customer asks to cancel: a CAR event (metadata reason_code, details, ORIGIN); returns it."""
        return self.book.customer_requests_cancellation(order_id, reason_code, details, origin)

    def conclude(self, order_id: str) -> dict:
        """The marketplace concludes the order: a CON event; returns it."""
        return self.book.conclude(order_id)

    def emit_event(self, order_id: str, code: str, metadata: dict | None = None) -> dict:
        """Queue any event code for an order (e.g. an unknown one), without changing its status; returns it."""
        with self._state:
            order = self.book.get(order_id)
            return self.emit(order.id, order.merchant_id, code, metadata)

    def queue_raw_event(self, event: dict, merchant_id: str | None = None) -> dict:
        """Queue a hand-made event exactly as given (a misbehaving iFood's: bad dates, odd text, wrong types); returns it."""
        # For every credential covering `merchant_id` (default: the event's merchantId, else the first merchant).
        with self._state:
            merchant = merchant_id or event.get("merchantId") or next(iter(self.merchants))
            now = self.now()
            for client_id, merchants in self.grants.items():
                if merchant in merchants:
                    self._queues[client_id].add({**event, "merchantId": event.get("merchantId", merchant)}, now)
            return event

    def start_placing(self, every_s: float, **options: Any) -> None:
        """Place a new order every `every_s` seconds from a background thread (and let the marketplace move on)."""
        self.stop_placing()
        stop = threading.Event()
        self._placer_stop, self.placing_every_s = stop, every_s

        def run() -> None:
            """Place an order every `every_s` until stopped."""
            while not stop.wait(every_s):
                self.place_order(**options)
                with self._state:
                    self.book.sweep(self.now())

        self._placer = threading.Thread(target=run, name="ifood-sim-placer", daemon=True)
        self._placer.start()

    def stop_placing(self) -> None:
        """Stop placing orders."""
        self._placer_stop.set()
        if self._placer is not None and self._placer is not threading.current_thread():
            self._placer.join(timeout=5)
        self._placer, self.placing_every_s = None, None

    def configure_webhook(self, url: str, client_id: str | None = None, **options: Any) -> WebhookSender:
        """Deliver new events for `client_id`'s merchants to `url`, signed with its secret (options: WebhookConfig fields)."""
        client_id = client_id or next(iter(self.credentials))
        config = WebhookConfig(url=url, client_id=client_id, secret=self.credentials[client_id], **options)
        self.disable_webhook()
        sender = WebhookSender(config=config, now=self.now, on_presence=self.mark_present, knobs=self,
                               merchant_ids=lambda: list(self.grants[client_id]))
        with self._state:
            self.webhook = sender
        return sender.start()

    def disable_webhook(self) -> None:
        """Stop the webhook mode."""
        with self._state:
            sender, self.webhook = self.webhook, None
        if sender is not None:
            sender.stop()

    def stop_background(self) -> None:
        """Stop the order placer and the webhook sender."""
        self.stop_placing()
        self.disable_webhook()

    def stop(self) -> None:
        """Stop serving and the background threads."""
        self.stop_background()
        super().stop()  # type: ignore[misc]

    def knobs(self) -> dict[str, Any]:
        """Every knob's current value, as POST /_simulator/faults names them."""
        with self._state:
            values = {name: getattr(self, name) for name in SIM_KNOBS}
            values.update({name: getattr(self.strike_rule, attr) for name, (attr, _) in STRIKE_KNOBS.items()})
            values.update(self.faults.as_json())
            return values

    def set_knobs(self, knobs: dict[str, Any]) -> None:
        """Validate then apply knobs by name (ValueError, changing nothing, on a bad name or value)."""
        unknown = set(knobs) - set(SIM_KNOBS) - set(STRIKE_KNOBS) - set(FAULT_KNOBS) - {"expire_tokens", "advance_s"}
        if unknown:
            raise ValueError(f"unknown knobs: {', '.join(sorted(unknown))}")
        faults = self.faults.parse({name: value for name, value in knobs.items() if name in FAULT_KNOBS})
        converted = {}
        for name, value in knobs.items():
            if name in FAULT_KNOBS:
                continue
            convert = SIM_KNOBS.get(name) or (STRIKE_KNOBS[name][1] if name in STRIKE_KNOBS else
                                              strict(bool) if name == "expire_tokens" else strict(float))
            try:
                converted[name] = convert(value)
            except ValueError as exc:
                raise ValueError(f"{name}: expected {exc}") from None
        with self._state:
            self.faults.apply(faults)
            for name, value in converted.items():
                if name in SIM_KNOBS:
                    setattr(self, name, value)
                elif name in STRIKE_KNOBS:
                    setattr(self.strike_rule, STRIKE_KNOBS[name][0], value)
            if converted.get("expire_tokens"):
                self.expire_tokens()
            if converted.get("advance_s"):
                self.advance(converted["advance_s"])

    def state(self) -> dict[str, Any]:
        """What GET /_simulator/state shows."""
        with self._state:
            now = self.now()
            by_status: dict[str, int] = {}
            for order in self.book.orders.values():
                by_status[order.status] = by_status.get(order.status, 0) + 1
            queues = {cid: {"unacked": len(q.pending), "acked": len(q.acked), "events": len(q.history),
                            "expired": len(q.expired), "strikes": q.strikes(now, self.strike_rule),
                            "total_strikes": q.total_strikes, "blocked": q.blocked(now), "blocks": q.blocks}
                      for cid, q in self._queues.items()}
            sender = self.webhook
            webhook = None if sender is None else {
                "url": sender.config.url, "client_id": sender.config.client_id, "keepalive_s": sender.config.keepalive_s,
                "attempts": len(sender.attempts), "delivered": len(sender.delivered), "dropped": len(sender.dropped),
                "pending": sender.pending_count()}
            return {"url": self.url, "now": now, "credentials": list(self.credentials),
                    "merchants": [{**m, "connected": self.is_connected(m["id"]),
                                   "granted_to": [c for c, g in self.grants.items() if m["id"] in g]}
                                  for m in self.merchants.values()],
                    "orders": {"total": len(self.book.orders), "by_status": by_status}, "queues": queues,
                    "knobs": self.knobs(), "webhook": webhook, "placing_every_s": self.placing_every_s}

    # --- control endpoints --------------------------------------------------------------------------

    def add_control_routes(self) -> None:
        """Register the /_simulator/ endpoints (never subject to the fault knobs)."""
        self.route("GET", "/_simulator/state", lambda request: json_response(200, self.state()))
        self.route("GET", "/_simulator/faults", lambda request: json_response(200, self.knobs()))
        self.route("POST", "/_simulator/faults", self.control_faults)
        self.route("POST", "/_simulator/orders", self.control_place)
        self.route("POST", "/_simulator/orders/{order_id}/{change}", self.control_order)
        self.route("POST", "/_simulator/webhook", self.control_webhook)
        self.route("POST", "/_simulator/merchants/{merchant_id}/state", self.control_merchant)
        self.route("POST", "/_simulator/placing", self.control_placing)

    def control_faults(self, request: FakeRequest) -> Response:
        """POST /_simulator/faults {knob: value, …, "expire_tokens": true, "advance_s": N}: misbehave on command."""
        try:
            self.set_knobs(control_body(request))
        except ValueError as exc:
            return bad_request(str(exc))
        return json_response(200, self.knobs())

    def control_place(self, request: FakeRequest) -> Response:
        """POST /_simulator/orders {"count", "merchant_id", "order_type", "payment", "delivered_by", "bad_totals"} → 201 ids."""
        try:
            body = control_body(request)
            count = strict(int)(body.pop("count", 1))
            allowed = {"merchant_id", "order_type", "payment", "delivered_by", "bad_totals"}
            if set(body) - allowed or not 0 < count <= 10000:
                raise ValueError(f"expected count 1..10000 and only {sorted(allowed)}")
            if body.get("merchant_id") is not None and body["merchant_id"] not in self.merchants:
                raise ValueError("unknown merchant_id")
            ids = self.place_orders(count, **body)
        except (ValueError, TypeError) as exc:
            return bad_request(str(exc))
        return json_response(201, {"order_ids": ids})

    def control_order(self, request: FakeRequest) -> Response:
        """POST /_simulator/orders/{id}/cancellation-request|conclude|events: the customer or marketplace acts."""
        order_id, change = request.params["order_id"], request.params["change"]
        try:
            body = control_body(request)
            if change == "cancellation-request":
                event = self.customer_requests_cancellation(order_id, **{k: str(v) for k, v in body.items()
                                                                          if k in ("reason_code", "details", "origin")})
            elif change == "conclude":
                event = self.conclude(order_id)
            elif change == "events" and isinstance(body.get("code"), str):
                event = self.emit_event(order_id, body["code"], body.get("metadata") if isinstance(body.get("metadata"), dict) else None)
            else:
                return json_response(404, {"error": "expected cancellation-request, conclude or events {code, metadata?}"})
        except KeyError:
            return json_response(404, {"error": f"no order {order_id}"})
        except IllegalAction as exc:
            return json_response(409, {"error": str(exc)})
        except ValueError as exc:
            return bad_request(str(exc))
        return json_response(202, event)

    def control_webhook(self, request: FakeRequest) -> Response:
        """POST /_simulator/webhook {"url" (null disables), "client_id", "keepalive_s", "per_merchant", "retry_window_s", …}."""
        try:
            body = control_body(request)
            url = body.pop("url", None)
            if url is None:
                self.disable_webhook()
            else:
                client_id = body.pop("client_id", None)
                if client_id is not None and client_id not in self.credentials:
                    raise ValueError("unknown client_id")
                self.configure_webhook(str(url), client_id, **body)
        except (ValueError, TypeError) as exc:
            return bad_request(str(exc))
        return json_response(200, self.state()["webhook"])

    def control_merchant(self, request: FakeRequest) -> Response:
        """POST /_simulator/merchants/{id}/state {"state": OK|WARNING|CLOSED|ERROR}."""
        try:
            self.set_merchant_state(request.params["merchant_id"], str(control_body(request).get("state")))
        except KeyError:
            return json_response(404, {"error": "unknown merchant"})
        except ValueError as exc:
            return bad_request(str(exc))
        return json_response(200, self.merchants[request.params["merchant_id"]])

    def control_placing(self, request: FakeRequest) -> Response:
        """POST /_simulator/placing {"every_s": S or null}: start or stop placing orders."""
        try:
            every_s = strict(float, optional=True)(control_body(request).get("every_s"))
            if every_s is not None and every_s <= 0:
                raise ValueError("every_s must be positive")
        except ValueError as exc:
            return bad_request(str(exc))
        if every_s is None:
            self.stop_placing()
        else:
            self.start_placing(every_s)
        return json_response(200, {"placing_every_s": self.placing_every_s})
