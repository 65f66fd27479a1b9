"""The simulator's orders: their iFood status, the merchant actions that move them, and the follow-up events."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from hi.integrations.simulation import FakeRequest, Response, json_response

from .common import Caller
from .data import CANCELLATION_REASONS

TERMINAL = frozenset({"CONCLUDED", "CANCELLED"})
#: action → (statuses it is legal in, status it leads to, follow-up event code): https://developer.ifood.com.br/en-US/docs/guides/modules/order/endpoints
ACTIONS = {
    "confirm": (frozenset({"PLACED"}), "CONFIRMED", "CFM"),
    "startPreparation": (frozenset({"CONFIRMED"}), "PREPARATION_STARTED", "PRS"),
    "readyToPickup": (frozenset({"CONFIRMED", "PREPARATION_STARTED"}), "READY_TO_PICKUP", "RTP"),
    "dispatch": (frozenset({"CONFIRMED", "PREPARATION_STARTED", "READY_TO_PICKUP"}), "DISPATCHED", "DSP"),
}
CANCELLATION_ACTIONS = frozenset({"requestCancellation", "acceptCancellation", "denyCancellation"})
VALID_CODES = {r["cancelCodeId"]: r["description"] for r in CANCELLATION_REASONS}


class IllegalAction(Exception):
    """An action (or a customer-side change) the order's current status does not allow."""


@dataclass
class SimOrder:
    """One placed order as iFood tracks it."""

    id: str
    merchant_id: str
    details: dict
    placed_at: float
    status: str = "PLACED"
    status_at: float = 0.0
    detail_requests: int = 0
    cancellation_requested: bool = False

    @property
    def terminal(self) -> bool:
        """Concluded or cancelled: nothing moves it any more."""
        return self.status in TERMINAL

    @property
    def delivered_by(self) -> str:
        """Who delivers (IFOOD or MERCHANT) for DELIVERY orders; "" otherwise."""
        return (self.details.get("delivery") or {}).get("deliveredBy", "")


def conflict(message: str, headers: dict[str, str]) -> Response:
    """The 409 answer to an action the order's status does not allow."""
    return json_response(409, {"error": {"code": "OrderStatusConflict", "message": message}}, headers)


class Marketplace(Protocol):
    """What the order book uses of the simulator that owns it (IFoodSimulator), which this module does not import."""

    _state: threading.RLock
    grants: dict[str, list[str]]
    details_404_s: float
    details_404_requests: int
    refuse_cancellations: bool
    auto_conclude_s: float | None
    auto_cancel_unconfirmed_s: float | None

    def now(self) -> float:
        """The simulator's clock."""

    def emit(self, order_id: str, merchant_id: str, code: str, metadata: dict | None = None) -> dict:
        """Queue an event about the order."""

    def _authorize(self, request: FakeRequest) -> Caller | Response:
        """The caller of a bearer-token request, or the error to answer."""


class OrderBook:
    """Orders by id, guarded by the simulator's state lock."""

    def __init__(self, sim: Marketplace) -> None:
        """An empty order book for `sim`."""
        self.sim = sim
        self.orders: dict[str, SimOrder] = {}

    def add(self, details: dict, merchant_id: str, now: float) -> SimOrder:
        """Record a placed order."""
        order = SimOrder(id=details["id"], merchant_id=merchant_id, details=details, placed_at=now, status_at=now)
        self.orders[order.id] = order
        return order

    def get(self, order_id: str) -> SimOrder:
        """An order by id; KeyError when unknown."""
        return self.orders[order_id]

    def visible(self, order_id: str, client_id: str) -> SimOrder | None:
        """The order if it exists and the credential covers its merchant."""
        order = self.orders.get(order_id)
        if order is None or order.merchant_id not in self.sim.grants.get(client_id, []):
            return None
        return order

    def details_ready(self, order: SimOrder, now: float) -> bool:
        """False while the 404-after-PLC knobs hide the details (by time since placing, or by request count)."""
        order.detail_requests += 1
        if now - order.placed_at < self.sim.details_404_s:
            return False
        return order.detail_requests > self.sim.details_404_requests

    def move(self, order: SimOrder, status: str | None, code: str, metadata: dict | None = None) -> dict:
        """Change status (None: keep it) and queue the event saying so."""
        if status is not None:
            order.status, order.status_at = status, self.sim.now()
        return self.sim.emit(order.id, order.merchant_id, code, metadata)

    def action(self, request: FakeRequest) -> Response:
        """POST /order/v1.0/orders/{id}/{action}: 202, then the follow-up event; 409 when the status forbids it."""
        caller = self.sim._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        name = request.params["action"]
        if name not in ACTIONS and name not in CANCELLATION_ACTIONS:
            return json_response(404, {"error": {"code": "NotFound", "message": f"Unknown action {name}"}}, caller.headers)
        with self.sim._state:
            order = self.visible(request.params["order_id"], caller.client_id)
            if order is None:
                return json_response(404, {"error": {"code": "NotFound", "message": "Order not found"}}, caller.headers)
            metadata = {"CLIENT_ID": caller.client_id}
            if name in ACTIONS:
                return self._status_action(order, name, metadata, caller.headers)
            if name == "requestCancellation":
                return self._request_cancellation(order, request, metadata, caller.headers)
            if not order.cancellation_requested or order.terminal:
                return conflict(f"Order {order.id} has no pending cancellation request", caller.headers)
            order.cancellation_requested = False
            if name == "acceptCancellation":
                self.move(order, "CANCELLED", "CAN", {**metadata, "CANCEL_ORIGIN": "CONSUMER",
                                                      "CANCEL_REASON": "Cancelamento solicitado pelo cliente"})
            # denyCancellation: the order simply goes on; iFood documents no event for a denial.
            return 202, caller.headers, b""

    def _status_action(self, order: SimOrder, name: str, metadata: dict, headers: dict[str, str]) -> Response:
        """confirm, startPreparation, readyToPickup, dispatch."""
        allowed, target, code = ACTIONS[name]
        if order.status == target:
            return 202, headers, b""  # a retried action: accepted again, no second event
        if order.status not in allowed:
            return conflict(f"Action {name} is not allowed for an order in status {order.status}", headers)
        if name == "dispatch" and order.delivered_by != "MERCHANT":
            return conflict(f"Order {order.id} is not delivered by the merchant", headers)
        self.move(order, target, code, metadata)
        return 202, headers, b""

    def _request_cancellation(self, order: SimOrder, request: FakeRequest, metadata: dict, headers: dict[str, str]) -> Response:
        """requestCancellation with {"reason","cancellationCode"} or {"reason":"<code>"}: CAN, or CARF for a bad code."""
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not (body.get("cancellationCode") or body.get("reason")):
            return json_response(400, {"error": {"code": "BadRequest", "message": "reason (or cancellationCode) is required"}}, headers)
        if order.terminal:
            return conflict(f"Order {order.id} is already {order.status}", headers)
        code = str(body.get("cancellationCode") or body.get("reason"))
        if code in VALID_CODES and not self.sim.refuse_cancellations:
            reason = str(body.get("reason") or VALID_CODES[code])
            self.move(order, "CANCELLED", "CAN", {**metadata, "CANCEL_CODE": code, "CANCEL_REASON": reason,
                                                  "CANCEL_ORIGIN": "MERCHANT"})
        else:
            self.move(order, None, "CARF", {**metadata, "CANCEL_CODE": code,
                                            "CANCELLATION_REQUEST_FAILED_REASON": "Invalid cancellation code" if code not in VALID_CODES
                                            else "Cancellation refused"})
        return 202, headers, b""

    def customer_requests_cancellation(self, order_id: str, reason_code: str, details: str, origin: str) -> dict:
        """The customer (or iFood) asks to cancel: CAR, and accept/deny become legal."""
        with self.sim._state:
            order = self.get(order_id)
            if order.terminal:
                raise IllegalAction(f"order {order_id} is {order.status}")
            order.cancellation_requested = True
            return self.move(order, None, "CAR", {"reason_code": reason_code, "details": details, "ORIGIN": origin})

    def conclude(self, order_id: str) -> dict:
        """The marketplace concludes the order (delivered or picked up): CON."""
        with self.sim._state:
            order = self.get(order_id)
            if order.terminal or order.status == "PLACED":
                raise IllegalAction(f"order {order_id} is {order.status}")
            return self.move(order, "CONCLUDED", "CON")

    def sweep(self, now: float) -> None:
        """What the marketplace does on its own: iFood couriers collect, orders conclude, unconfirmed ones cancel."""
        conclude_s, cancel_s = self.sim.auto_conclude_s, self.sim.auto_cancel_unconfirmed_s
        if conclude_s is None and cancel_s is None:
            return
        for order in list(self.orders.values()):
            age = now - order.status_at
            if cancel_s is not None and order.status == "PLACED" and age >= cancel_s:
                self.move(order, "CANCELLED", "CAN", {"CANCEL_ORIGIN": "IFOOD", "CANCEL_REASON": "Pedido não confirmado a tempo"})
            elif conclude_s is None:
                continue
            elif order.status == "READY_TO_PICKUP" and order.delivered_by == "IFOOD" and age >= conclude_s / 2:
                self.move(order, "DISPATCHED", "DSP")
            elif age >= conclude_s and (order.status == "DISPATCHED" or (order.status == "READY_TO_PICKUP" and not order.delivered_by)):
                self.move(order, "CONCLUDED", "CON")
