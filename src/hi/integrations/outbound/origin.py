"""Where a message has been: the Hi-Origin header that stops events looping between hi's endpoints."""
# An endpoint that forwards what it receives to another endpoint's receive URL (directly, through a relay
# that copies headers, or through another hi installation) would loop forever. So every request hi sends
# carries Hi-Origin: the ids of the hi installations the message went through, this one last. The
# receiving side records that list with what it publishes (the webhook service's webhook.received puts it
# in `via`), and an event whose list already names this installation is not forwarded again. The list is
# also capped, which bounds loops between installations that do not share a database.
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Iterable, Mapping

from django.conf import settings

ORIGIN_HEADER = "Hi-Origin"
#: A message that went through this many hi installations is not forwarded again, whoever they are.
MAX_HOPS = 5
_ID = re.compile(r"[0-9a-f]{16}")


def installation_id() -> str:
    """This installation's id: derived from SECRET_KEY (so every process agrees), and revealing nothing of it."""
    return hmac.new(settings.SECRET_KEY.encode(), b"hi.integrations.origin", hashlib.sha256).hexdigest()[:16]


def via_of(headers: Mapping[str, str]) -> list[str]:
    """The installations a received request says it went through (malformed entries dropped, at most MAX_HOPS)."""
    raw = next((value for name, value in headers.items() if name.lower() == ORIGIN_HEADER.lower()), "")
    found = [part.strip() for part in str(raw).split(",")]
    return [part for part in found if _ID.fullmatch(part)][-MAX_HOPS:]


def outbound_headers(via: Iterable[str] = ()) -> dict[str, str]:
    """The header a request hi sends carries: where the message has been, then this installation."""
    return {ORIGIN_HEADER: ", ".join([*list(via)[-(MAX_HOPS - 1):], installation_id()])}


def loop_reason(via: Iterable[str]) -> str:
    """Why a message with this path must not be forwarded again ('' when it may be)."""
    path = list(via)
    if installation_id() in path:
        return "it already went through this hi installation (an endpoint forwards to another's receive URL)"
    if len(path) >= MAX_HOPS:
        return f"it already went through {len(path)} hi installations"
    return ""
