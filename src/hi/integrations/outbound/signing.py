"""HMAC-SHA256 signatures for webhooks and signed provider requests, compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Literal

from requests import PreparedRequest
from requests.auth import AuthBase

Encoding = Literal["hex", "base64"]


def _key(secret: bytes | str) -> bytes:
    """The secret as bytes (text secrets are UTF-8, as every provider documents them)."""
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def hmac_sha256(secret: bytes | str, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of `message` under `secret`."""
    return hmac.new(_key(secret), message, hashlib.sha256).digest()


def hmac_sha256_hex(secret: bytes | str, message: bytes) -> str:
    """The digest as lowercase hex."""
    return hmac_sha256(secret, message).hex()


def hmac_sha256_base64(secret: bytes | str, message: bytes) -> str:
    """The digest as standard base64 with padding."""
    return base64.b64encode(hmac_sha256(secret, message)).decode("ascii")


def _decode(signature: str | bytes, encoding: Encoding) -> bytes | None:
    """The signature's raw bytes, or None when it is not valid in `encoding`."""
    text = signature.decode("ascii", "replace") if isinstance(signature, bytes) else signature
    text = text.strip()
    try:
        if encoding == "hex":
            return bytes.fromhex(text)
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None


def verify_hmac_sha256(secret: bytes | str, message: bytes, signature: str | bytes, encoding: Encoding = "hex") -> bool:
    """Whether `signature` (hex or base64) is the HMAC-SHA256 of `message` under `secret`."""
    if encoding not in ("hex", "base64"):
        raise ValueError(f"unknown signature encoding {encoding!r}: use 'hex' or 'base64'")
    given = _decode(signature, encoding)
    if given is None:
        return False
    # Comparing digests (not their text) makes hex case and base64 padding style irrelevant.
    return hmac.compare_digest(given, hmac_sha256(secret, message))


class HmacSha256Signer(AuthBase):
    """Signs each request's body, as the exact bytes sent (none: b""), with HMAC-SHA256 in a header; pass it as `auth=`."""

    # A requests auth hook runs on the prepared request, after `json=` or `data=` became the body: the signature
    # is over what goes on the wire, never over a re-serialisation that could differ by a space or a key order.

    def __init__(self, secret: bytes | str, header: str = "X-Signature", encoding: Encoding = "hex", prefix: str = "") -> None:
        """Sign under `secret` into `header`: a hex or base64 digest after `prefix` (e.g. "sha256=")."""
        if encoding not in ("hex", "base64"):
            raise ValueError(f"unknown signature encoding {encoding!r}: use 'hex' or 'base64'")
        self.secret, self.header, self.encoding, self.prefix = secret, header, encoding, prefix

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        """Add the signature of the body about to be sent."""
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("iso-8859-1")  # how http.client sends a text body
        if not isinstance(body, bytes):
            raise TypeError("a streamed body cannot be signed before it is sent: pass bytes (data=) or json=")
        digest = hmac_sha256_hex(self.secret, body) if self.encoding == "hex" else hmac_sha256_base64(self.secret, body)
        request.headers[self.header] = f"{self.prefix}{digest}"
        return request
