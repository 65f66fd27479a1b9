"""The WhatsApp simulator's data: default templates, Meta's error table, generated ids and placeholders."""
from __future__ import annotations

import base64
import random
import re
import string
from typing import Any

#: Graph versions look like `v23.0`; any such prefix is accepted.
VERSION = re.compile(r"^v\d+\.\d+$")
#: `{{1}}`, `{{2}}`… in a template component's text.
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
#: Where Meta's error codes are explained (the `href` of asynchronous errors).
ERRORS_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

#: The HTTP status Meta answers each synchronous error code with (its error-codes table); a knob can override it.
ERROR_STATUSES: dict[int, int] = {
    0: 401, 3: 500, 4: 400, 10: 403, 100: 400, 190: 401, 200: 403, 80007: 400, 130429: 400, 131000: 500,
    131008: 400, 131009: 400, 131026: 400, 131047: 400, 131048: 400, 131049: 400, 131056: 400, 132000: 400,
    132001: 404,
}

#: code: (title, details). The title is also the `message` of asynchronous errors; details go in `error_data`.
ERRORS: dict[int, tuple[str, str]] = {
    4: ("Application request limit reached", "Too many API calls from this app."),
    100: ("Invalid parameter", "Invalid parameter."),
    190: ("Access token has expired", "Invalid OAuth access token."),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131026: ("Message undeliverable", "Message Undeliverable."),
    131047: ("Re-engagement message", "Message failed to send because more than 24 hours have passed since the "
                                      "customer last replied to this number."),
    131048: ("Spam rate limit hit", "Message failed to send because there are restrictions on how many messages "
                                    "can be sent from this phone number."),
    131049: ("Meta chose not to deliver.", "This message was not delivered to maintain healthy ecosystem engagement."),
    131056: ("(Business Account, Consumer Account) pair rate limit hit",
             "Message failed to send because there were too many messages sent from this phone number to the same "
             "phone number in a short period of time."),
    132000: ("Number of parameters does not match the expected number of params", ""),
    132001: ("Template name does not exist in the translation", ""),
}


def template(name: str, body: str, *, language: str = "pt_BR", status: str = "APPROVED", category: str = "UTILITY",
             footer: str | None = None, template_id: str = "") -> dict[str, Any]:
    """A template as the Graph API lists it (components: BODY, then an optional FOOTER)."""
    components: list[dict[str, Any]] = [{"type": "BODY", "text": body}]
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    return {"name": name, "parameter_format": "POSITIONAL", "components": components, "language": language,
            "status": status, "category": category, "id": template_id}


def default_templates() -> list[dict[str, Any]]:
    """The demo business's templates: the order notifications, one pending, one rejected, and fillers for paging."""
    listed = [
        template("order_confirmed", "Olá {{1}}, seu pedido {{2}} foi confirmado! Total: {{3}}. Obrigado por pedir na {{4}}.",
                 footer="Responda PARAR para não receber mais avisos."),
        template("order_dispatched", "Olá {{1}}, seu pedido {{2}} ({{3}}) saiu para entrega. {{4}}"),
        template("order_ready", "Olá {{1}}, seu pedido {{2}} ({{3}}) está pronto para retirada na {{4}}."),
        template("order_cancelled", "Olá {{1}}, seu pedido {{2}} ({{3}}) foi cancelado. A {{4}} pede desculpas."),
        template("order_delivered", "Olá {{1}}, seu pedido {{2}} ({{3}}) foi entregue. Bom apetite! {{4}}"),
        template("hello_world", "Welcome and congratulations!! This message demonstrates your ability to send a "
                                "WhatsApp message notification from the Cloud API.", language="en_US"),
        template("promo_fim_de_semana", "Oi {{1}}! Neste fim de semana, 10% de desconto na {{2}}.",
                 status="PENDING", category="MARKETING"),
        template("cupom_relampago", "Cupom relâmpago: {{1}}", status="REJECTED", category="MARKETING"),
    ]
    # Fillers so that a business has more templates than one page of 25 holds.
    listed += [template(f"aviso_{n:02d}", f"Aviso {n}: {{{{1}}}}") for n in range(1, 25)]
    for index, item in enumerate(listed):
        item["id"] = str(1_180_000_000_000_000 + index * 7919)
    return listed


def placeholder_count(text: str) -> int:
    """How many parameters a component's text expects (its highest `{{n}}`)."""
    return max((int(n) for n in PLACEHOLDER.findall(text)), default=0)


def render(text: str, values: list[str]) -> str:
    """The text with `{{n}}` replaced by the n-th value (missing ones left as they are)."""
    return PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1] if int(m.group(1)) <= len(values) else m.group(0), text)


def wa_id_of(phone: str) -> str:
    """The WhatsApp id of a phone number as given to `to`: its digits."""
    return "".join(ch for ch in str(phone) if ch.isdigit())


def new_wamid(rng: random.Random, wa_id: str) -> str:
    """A message id shaped like Meta's: `wamid.` + base64 (may contain `+`, `/`, `=`) of the recipient and a token."""
    token = "".join(rng.choice("0123456789ABCDEF") for _ in range(20)).encode()
    raw = b"\x1c\x18" + bytes([len(wa_id) & 0xFF]) + wa_id.encode() + b"\x15\x02\x00\x12\x18\x14" + token + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def new_numeric_id(rng: random.Random) -> str:
    """A Graph object id (media, conversation): 16 digits."""
    return str(rng.randrange(10**15, 10**16))


def new_trace_id(rng: random.Random) -> str:
    """An `fbtrace_id`."""
    return "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(27))


def page_cursor(index: int) -> str:
    """An opaque paging cursor for the item at `index`."""
    return base64.b64encode(f"tpl:{index}".encode()).decode().rstrip("=")


def cursor_index(cursor: str) -> int | None:
    """The item index a cursor points at, or None when it is not one of ours."""
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "tpl" and number.isdigit() else None
