"""The simulator's send endpoint: validation, the sending faults, and the statuses each accepted message will get."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from hi.integrations.simulation import FakeRequest, Response, json_response

from .data import ERRORS, ERRORS_HREF, new_numeric_id, new_wamid, placeholder_count, render, wa_id_of

#: The `type`s the messages endpoint accepts.
SEND_TYPES = ("audio", "contacts", "document", "image", "interactive", "location", "reaction", "sticker", "template",
              "text", "video")
MAX_TEXT = 4096


@dataclass(frozen=True)
class Accepted:
    """A send that passed validation."""

    wa_id: str
    #: The template's category, or "" for a free-form message.
    category: str = ""
    #: The text the customer will read ("" for media and other types).
    text: str = ""


class SendMixin:
    """POST /{ver}/{phone_number_id}/messages; mixed into WhatsAppSimulator (which holds the state and knobs)."""

    _state: Any
    _halt: threading.Event
    rng: Any
    phone_number_id: str
    templates: list[dict[str, Any]]
    sent: list[dict[str, Any]]
    last_inbound: dict[str, float]
    customers: dict[str, str]
    window_s: float
    throughput_limited: int
    server_error: int
    pair_rate_limit_s: float
    accept_then_timeout: int
    accept_then_timeout_s: float
    undeliverable_numbers: list[str]
    status_delay_s: float
    out_of_order_notifications: bool
    skip_delivered: bool
    reply_probability: float
    reply_text: str
    max_recorded: int | None
    notifier: Any
    now: Callable[[], float]
    graph_error: Callable[..., Response]
    authorize: Callable[[FakeRequest], Response | None]
    check_path: Callable[[FakeRequest, str], Response | None]
    say: Callable[..., dict[str, Any]]

    def send_message(self, request: FakeRequest) -> Response:
        """Accept a text, template or other message (200 with its wamid), or refuse it with Meta's error."""
        refused = self.authorize(request) or self.check_path(request, self.phone_number_id)
        if refused is not None:
            return refused
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.graph_error(100, message="(#100) The request body must be a JSON object")
        checked = self._validate(body)
        if not isinstance(checked, Accepted):
            return checked  # Meta's error
        wa_id, category, text = checked.wa_id, checked.category, checked.text
        with self._state:
            now = self.now()
            if self.throughput_limited > 0:
                self.throughput_limited -= 1
                return self.graph_error(130429)
            if self.server_error > 0:
                self.server_error -= 1
                return self.graph_error(131000)
            last = self._last_sent_to.get(wa_id)
            if self.pair_rate_limit_s and last is not None and now - last < self.pair_rate_limit_s:
                return self.graph_error(131056)
            self._last_sent_to[wa_id] = now
            wamid = new_wamid(self.rng, wa_id)
            self.sent.append({"id": wamid, "to": body["to"], "wa_id": wa_id, "type": body.get("type", "text"),
                              "body": body, "text": text, "time": now})
            if self.max_recorded is not None and len(self.sent) > 2 * self.max_recorded:
                del self.sent[:-self.max_recorded]
            stall = self.accept_then_timeout > 0
            if stall:
                self.accept_then_timeout -= 1
            self._plan_statuses(wamid, wa_id, body, category, now)
        answer = {"messaging_product": "whatsapp", "contacts": [{"input": str(body["to"]), "wa_id": wa_id}],
                  "messages": [{"id": wamid, **({"message_status": "accepted"} if category else {})}]}
        if stall:
            # Accepted and on its way to the customer, but the answer never comes back in time: hi cannot know.
            self._halt.wait(self.accept_then_timeout_s)
        return json_response(200, answer)

    def _validate(self, body: dict[str, Any]) -> Accepted | Response:
        """The accepted send, or the error Meta answers."""
        if body.get("messaging_product") != "whatsapp":
            return self.graph_error(100, message="(#100) The parameter messaging_product is required.")
        wa_id = wa_id_of(body.get("to") or "")
        if not wa_id:
            return self.graph_error(100, message="(#100) The parameter to is required.")
        kind = body.get("type", "text")
        if kind not in SEND_TYPES:
            allowed = ", ".join(t.upper() for t in SEND_TYPES)
            return self.graph_error(100, message=f"(#100) Param type must be one of {{{allowed}}} - got \"{kind}\".")
        content = body.get(kind)
        if not isinstance(content, (dict, list)):
            return self.graph_error(100, message=f"(#100) The parameter {kind} is required.")
        if kind == "text":
            text = content.get("body") if isinstance(content, dict) else None
            if not isinstance(text, str) or not text:
                return self.graph_error(100, message="(#100) The parameter text['body'] is required.")
            if len(text) > MAX_TEXT:
                return self.graph_error(100, message=f"(#100) Param text['body'] must be at most {MAX_TEXT} characters long.")
            return Accepted(wa_id, text=text)
        if kind != "template":
            return Accepted(wa_id)
        return self._validate_template(wa_id, content)

    def _validate_template(self, wa_id: str, content: Any) -> Accepted | Response:
        """A template send: it must exist, approved, in that language, with as many parameters as it has placeholders."""
        name = content.get("name") if isinstance(content, dict) else None
        language = content.get("language") if isinstance(content, dict) else None
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not isinstance(code, str):
            return self.graph_error(100, message="(#100) The parameters template['name'] and template['language']['code'] "
                                                 "are required.")
        with self._state:
            found = next((t for t in self.templates if t["name"] == name and t["language"] == code), None)
        if found is None or found["status"] != "APPROVED":
            return self.graph_error(132001, details=f"template name ({name}) does not exist in {code}")
        given: dict[str, list[Any]] = {}
        for component in content.get("components") or []:
            if isinstance(component, dict) and isinstance(component.get("parameters"), list):
                given.setdefault(str(component.get("type", "")).lower(), []).extend(component["parameters"])
        body_text = ""
        for component in found["components"]:
            kind = component["type"].lower()
            if kind not in ("body", "header") or "text" not in component:
                continue
            expected, got = placeholder_count(component["text"]), len(given.get(kind, []))
            if expected != got:
                return self.graph_error(132000, details=f"{kind}: number of localizable_params ({got}) does not match "
                                                         f"the expected number of params ({expected})")
            if kind == "body":
                values = [str(p.get("text", p.get(p.get("type", ""), ""))) if isinstance(p, dict) else str(p)
                          for p in given.get("body", [])]
                body_text = render(component["text"], values)
        return Accepted(wa_id, found["category"], body_text)

    def _plan_statuses(self, wamid: str, wa_id: str, body: dict[str, Any], category: str, now: float) -> None:
        """Queue the statuses this message will get: sent → delivered → read, or failed (131026, 131047)."""
        undeliverable = {wa_id_of(n) for n in self.undeliverable_numbers}
        opened = self.last_inbound.get(wa_id)
        if wa_id in undeliverable:
            plan = ["failed:131026"]
        elif not category and (opened is None or now - opened > self.window_s):
            # Free-form messages need the customer's own message within 24 hours; templates do not.
            plan = ["failed:131047"]
        else:
            plan = ["sent", "read"] if self.skip_delivered else ["sent", "delivered", "read"]
        origin = category.lower() if category else "service"
        conversation = {"id": new_numeric_id(self.rng), "expiration_timestamp": str(int(now) + 86400),
                        "origin": {"type": origin}}
        statuses = []
        for step, name in enumerate(plan, start=1):
            status: dict[str, Any] = {"id": wamid, "status": name.split(":")[0],
                                      "timestamp": str(int(now + step * self.status_delay_s)), "recipient_id": wa_id}
            if name.startswith("failed"):
                code = int(name.split(":")[1])
                title, details = ERRORS[code]
                status["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": details},
                                     "href": ERRORS_HREF}]
            else:
                status["conversation"] = conversation
                status["pricing"] = {"billable": origin != "service", "pricing_model": "PMP",
                                     "category": origin, "type": "regular" if origin != "service" else "free_customer_service"}
            if "biz_opaque_callback_data" in body:
                status["biz_opaque_callback_data"] = body["biz_opaque_callback_data"]
            statuses.append(status)
        delays = [step * self.status_delay_s for step in range(1, len(statuses) + 1)]
        if self.out_of_order_notifications:
            # The timestamps keep the true order; only the arrival order is reversed (read first, sent last).
            delays.reverse()
        for status, delay in zip(statuses, delays, strict=True):
            after = self._reply_later(wa_id) if status["status"] == "read" and category else None
            self.notifier.schedule({"statuses": [status]}, delay, after)

    def _reply_later(self, wa_id: str) -> Callable[[], None]:
        """After a template is read, the customer sometimes answers (`reply_probability`, `reply_text`)."""
        def maybe_reply() -> None:
            """Draw whether the customer answers, and post the answer if so."""
            with self._state:
                answer = self.rng.random() < self.reply_probability
                name = self.customers.get(wa_id, "")
            if answer:
                self.say(wa_id, self.reply_text, name=name or None, kind="text", delay_s=self.status_delay_s)
        return maybe_reply
