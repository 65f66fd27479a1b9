"""Small pieces the iFood simulator's modules share: the error envelope and the authenticated caller."""
from __future__ import annotations

from dataclasses import dataclass

from hi.integrations.simulation import Response, json_response


def ifood_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """iFood's error envelope: {"error": {"code", "message"}}."""
    return json_response(status, {"error": {"code": code, "message": message}}, headers)


@dataclass
class Token:
    """An access token bound to one credential, with its per-token rate-limit window."""

    client_id: str
    expires_at: float
    window_start: float = 0.0
    window_count: int = 0


@dataclass
class Caller:
    """An authenticated request: whose token, and the rate-limit headers to answer with."""

    client_id: str
    headers: dict[str, str]
