"""Standard Webhooks v1 (symmetric scheme): secrets, signing a delivery, and verifying one."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets as _random
import time
import uuid
from collections.abc import Mapping, Sequence

from ..core.errors import SignatureError
from .signing import hmac_sha256

# The specification: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
# Its reference libraries: https://github.com/standard-webhooks/standard-webhooks/tree/main/libraries
SECRET_PREFIX = "whsec_"
#: The spec's symmetric secrets are 24 to 64 random bytes.
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
#: The reference libraries refuse a timestamp more than five minutes old or ahead.
DEFAULT_TOLERANCE_S = 300
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,15}", re.ASCII)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}", re.ASCII)


def generate_secret(n_bytes: int = 32) -> str:
    """A new signing secret: "whsec_" and the base64 of `n_bytes` random bytes."""
    if not MIN_SECRET_BYTES <= n_bytes <= MAX_SECRET_BYTES:
        raise ValueError(f"a secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {n_bytes}")
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(n_bytes)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key inside a "whsec_..." secret (the prefix is optional); ValueError when it is malformed."""
    text = secret.strip() if isinstance(secret, str) else ""
    text = text.removeprefix(SECRET_PREFIX)
    if not text or not _BASE64.fullmatch(text):
        raise ValueError('the webhook secret is not "whsec_" followed by base64')
    text = text.rstrip("=")
    try:
        # Unpadded base64 is accepted, as the reference library accepts it.
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise ValueError('the webhook secret is not "whsec_" followed by valid base64') from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        size = f"{MIN_SECRET_BYTES} to {MAX_SECRET_BYTES}"
        raise ValueError(f"the webhook secret holds {len(key)} bytes; Standard Webhooks secrets hold {size}")
    return key


def new_message_id() -> str:
    """A new message id ("msg_" and 32 hex digits), kept the same across a message's retries."""
    return f"msg_{uuid.uuid4().hex}"


def _signed_content(msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    """What is signed: "<id>.<timestamp>." and the exact body bytes."""
    return f"{msg_id}.{timestamp}.".encode() + body


def _check_id(msg_id: str) -> None:
    """Refuse an empty message id or one with a dot."""
    # The id and timestamp are separated by dots in the signed content: a dot would make it ambiguous.
    if not msg_id or "." in msg_id:
        raise ValueError(f"a message id is non-empty and has no '.': {msg_id!r}")


def sign(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The "v1,<base64>" signature of a delivery under one secret."""
    _check_id(msg_id)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"a timestamp is whole Unix seconds, not {timestamp!r}")
    digest = hmac_sha256(secret_bytes(secret), _signed_content(msg_id, timestamp, body))
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> str:
    """The webhook-signature value: one signature per secret (the new and the old one while rotating)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return " ".join(sign(msg_id, timestamp, body, secret) for secret in secrets)


def headers(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The three headers of a signed delivery."""
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_header(msg_id, timestamp, body, secrets),
    }


def _candidates(value: str) -> list[bytes]:
    """The decoded v1 signatures in a webhook-signature value (other versions, like v1a, are skipped)."""
    found = []
    for entry in value.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless a v1 signature in `headers` matches `body` under one of `secrets`."""
    keys = [secret_bytes(secret) for secret in secrets]  # a bad secret is configuration: ValueError
    if not keys:
        raise ValueError("at least one secret is needed to verify a webhook")
    lowered = {str(name).lower(): value for name, value in headers.items()}
    names = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
    msg_id, stamp, signature = (lowered.get(name) for name in names)
    missing = [name for name, value in zip(names, (msg_id, stamp, signature), strict=True) if not value]
    if missing:
        raise SignatureError("missing_header", f"missing header {', '.join(missing)}")
    if not isinstance(msg_id, str) or "." in msg_id or not msg_id.isprintable():
        raise SignatureError("bad_id", "webhook-id is not a printable id without '.'")
    if not isinstance(stamp, str) or not _TIMESTAMP.fullmatch(stamp):
        raise SignatureError("bad_timestamp", "webhook-timestamp is not whole Unix seconds")
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if timestamp < current - tolerance_s:
        raise SignatureError("stale", f"webhook-timestamp is more than {tolerance_s} s old")
    if timestamp > current + tolerance_s:
        raise SignatureError("future", f"webhook-timestamp is more than {tolerance_s} s ahead")
    given = _candidates(signature) if isinstance(signature, str) else []
    try:
        content = _signed_content(msg_id, stamp, body)  # the header's own digits, as the sender signed them
    except UnicodeEncodeError:
        raise SignatureError("bad_id", "webhook-id is not valid text") from None
    expected = [hmac_sha256(key, content) for key in keys]
    if not any(hmac.compare_digest(sig, want) for sig in given for want in expected):
        raise SignatureError("no_match", "no webhook-signature matches the body under the configured secrets")
