"""Keep secrets out of messages, logs and diagnostics."""
from __future__ import annotations

from typing import Any, Iterable

REDACTED = "**REDACTED**"


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a known secret value in `text`."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_data(data: Any, secrets: Iterable[str], keys: Iterable[str] = ()) -> Any:
    """Return a copy of nested data with secret values and the values under `keys` redacted."""
    secrets = list(secrets)
    keys = {key.lower() for key in keys}
    if isinstance(data, dict):
        return {
            k: REDACTED if str(k).lower() in keys and v not in (None, "") else redact_data(v, secrets, keys)
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [redact_data(item, secrets, keys) for item in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data
