"""The simulator's knobs and its /_simulator/ control endpoints (never subject to the fault knobs)."""
from __future__ import annotations

import copy
from typing import Any, Callable

from hi.integrations.simulation import KNOBS, FakeRequest, Response, bad_request, control_body, json_response, strict

from .notify import SIGNATURE_MODES


def _choice(*allowed: Any) -> Callable[[Any], Any]:
    """A converter that accepts only one of `allowed`."""
    def convert(value: Any) -> Any:
        """The value when it is one of `allowed`, else ValueError."""
        if value in allowed and not isinstance(value, bool):
            return value
        raise ValueError("one of " + ", ".join(map(str, allowed)))
    return convert


def _probability(value: Any) -> float:
    """A number from 0 to 1."""
    number = strict(float)(value)
    if number > 1:
        raise ValueError("a number from 0 to 1")
    return number


def _positive(value: Any) -> float:
    """A number of seconds above zero."""
    number = strict(float)(value)
    if number <= 0:
        raise ValueError("a positive number")
    return number


def _batch(value: Any) -> bool | int:
    """A batch size, or true (10) / false (off)."""
    return value if isinstance(value, bool) else strict(int)(value)


def _numbers(value: Any) -> list[str]:
    """A list of phone numbers (strings)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("a list of phone numbers")
    return list(value)


def _statuses(value: Any) -> dict[int, int]:
    """{error code: HTTP status}, from JSON (whose keys are strings)."""
    if not isinstance(value, dict):
        raise ValueError("an object {code: HTTP status}")
    try:
        table = {int(code): int(status) for code, status in value.items()}
    except (TypeError, ValueError):
        raise ValueError("an object {code: HTTP status}") from None
    if not all(100 <= status <= 599 for status in table.values()):
        raise ValueError("HTTP statuses from 100 to 599")
    return table


#: POST /_simulator/faults keys that set a simulator attribute of the same name.
SIM_KNOBS: dict[str, Callable[[Any], Any]] = {
    "auth_error_status": _choice(400, 401), "token_expired": strict(bool), "throughput_limited": strict(int),
    "pair_rate_limit_s": strict(float), "server_error": strict(int), "accept_then_timeout": strict(int),
    "accept_then_timeout_s": _positive, "duplicate_notifications": strict(bool),
    "out_of_order_notifications": strict(bool), "batch_notifications": _batch,
    "undeliverable_numbers": _numbers, "status_delay_s": strict(float), "notifications_paused": strict(bool),
    "skip_delivered": strict(bool), "reply_probability": _probability, "reply_text": strict(str),
    "quality_rating": _choice("GREEN", "YELLOW", "RED", "UNKNOWN"), "signature_mode": _choice(*SIGNATURE_MODES),
    "callback_url": strict(str, optional=True), "error_statuses": _statuses, "window_s": strict(float),
    "notification_retries": strict(int), "notification_retry_s": strict(float),
    "notification_timeout_s": _positive, "notification_workers": strict(int), "token_in_paging_urls": strict(bool),
}
#: Keys that can be set but are never shown (the simulator's credentials).
SECRET_KNOBS: dict[str, Callable[[Any], Any]] = {
    "access_token": strict(str), "app_secret": strict(str), "verify_token": strict(str, optional=True)}
#: Keys that set the inherited `sim.faults`: the knobs every simulator has (hi.integrations.simulation.KNOBS: an
#: outage, 5xx, slow or dripping answers, dropped connections, extra headers, refused credentials, a rate limit).
FAULT_KNOBS = KNOBS
#: Keys that do something once: move the clock forward.
ACTIONS = {"advance_s": strict(float)}


class ControlMixin:
    """Knobs by name, the state, and the control endpoints; mixed into WhatsAppSimulator."""

    _state: Any
    _defaults: dict[str, Any]
    faults: Any
    notifier: Any
    route: Callable[..., None]
    advance: Callable[[float], None]
    say: Callable[..., dict[str, Any]]
    verify: Callable[..., tuple[int, str]]
    state: Callable[[], dict[str, Any]]

    def knobs(self) -> dict[str, Any]:
        """Every visible knob's current value, as POST /_simulator/faults names them."""
        with self._state:
            values = {name: getattr(self, name) for name in SIM_KNOBS}
            values.update(self.faults.as_json())
            values["undeliverable_numbers"] = list(values["undeliverable_numbers"])
            values["error_statuses"] = {str(code): status for code, status in values["error_statuses"].items()}
            return values

    def set_knobs(self, knobs: dict[str, Any]) -> None:
        """Validate every knob, then apply them all (ValueError, changing nothing, on a bad name or value)."""
        tables = (SIM_KNOBS, SECRET_KNOBS, ACTIONS)
        unknown = [name for name in knobs if name not in FAULT_KNOBS and name != "reset" and not any(name in t for t in tables)]
        if unknown:
            raise ValueError(f"unknown knobs: {', '.join(sorted(unknown))}")
        # The framework's Faults checks its own knobs and "reset" (which puts them back).
        faults = self.faults.parse({name: value for name, value in knobs.items() if name in FAULT_KNOBS or name == "reset"})
        converted = {}
        for name, value in knobs.items():
            if name in FAULT_KNOBS or name == "reset":
                continue
            convert = next(table[name] for table in tables if name in table)
            try:
                converted[name] = convert(value)
            except ValueError as exc:
                raise ValueError(f"{name}: expected {exc}") from None
        with self._state:
            if faults["reset"]:
                # "reset": true also puts the simulator's own knobs back as it started (the credentials stay).
                for name, value in self._defaults.items():
                    setattr(self, name, copy.deepcopy(value))
            self.faults.apply(faults)
            for name, value in converted.items():
                if name in SIM_KNOBS or name in SECRET_KNOBS:
                    setattr(self, name, value)
            if converted.get("advance_s"):
                self.advance(converted["advance_s"])
        self.notifier.wake()

    # --- control endpoints --------------------------------------------------------------------------

    def add_control_routes(self) -> None:
        """Register the /_simulator/ endpoints (and remember the knobs' starting values for "reset": true)."""
        self._defaults = copy.deepcopy({name: getattr(self, name) for name in SIM_KNOBS})
        self.route("GET", "/_simulator/state", lambda request: json_response(200, self.state()))
        self.route("GET", "/_simulator/faults", lambda request: json_response(200, self.knobs()))
        self.route("POST", "/_simulator/faults", self.control_faults)
        self.route("POST", "/_simulator/customer-messages", self.control_customer)
        self.route("POST", "/_simulator/verify", self.control_verify)

    def control_faults(self, request: FakeRequest) -> Response:
        """POST /_simulator/faults {"reset"?: true, knob: value, …, "advance_s": N}: misbehave on command."""
        try:
            self.set_knobs(control_body(request))
        except ValueError as exc:
            return bad_request(str(exc))
        return json_response(200, self.knobs())

    def control_customer(self, request: FakeRequest) -> Response:
        """POST /_simulator/customer-messages {"wa_id", "text", "name"?, "kind"?, …extra}: a customer writes → 202."""
        try:
            body = control_body(request)
            wa_id, text = body.pop("wa_id", None), body.pop("text", "")
            name, kind = body.pop("name", "Maria Silva"), body.pop("kind", "text")
            if not all(isinstance(v, str) for v in (wa_id, text, name, kind)) or not wa_id or "data" in body:
                raise ValueError('expected {"wa_id", "text", "name"?, "kind"?, …} strings (no "data")')
            message = self.say(wa_id, text, name=name, kind=kind, **body)
        except ValueError as exc:
            return bad_request(str(exc))
        return json_response(202, message)

    def control_verify(self, request: FakeRequest) -> Response:
        """POST /_simulator/verify {"verify_token"?, "mode"?, "challenge"?}: Meta's GET handshake → hi's answer."""
        try:
            body = control_body(request)
            if set(body) - {"verify_token", "mode", "challenge"} or not all(isinstance(v, str) for v in body.values()):
                raise ValueError('expected {"verify_token"?, "mode"?, "challenge"?} strings')
            status, text = self.verify(**body)
        except ValueError as exc:
            return bad_request(str(exc))
        return json_response(200, {"status": status, "body": text})
