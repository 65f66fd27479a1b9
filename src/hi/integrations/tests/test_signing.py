"""HMAC-SHA256 helpers against RFC 4231's test vectors, constant-time verification, and the signer of request bodies."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import requests

from hi.integrations.outbound.http import ProviderClient
from hi.integrations.outbound.signing import HmacSha256Signer, hmac_sha256, hmac_sha256_base64, hmac_sha256_hex, verify_hmac_sha256
from hi.integrations.testing import FakeProviderServer, json_response

# RFC 4231 §4.3 (test case 2) and §4.2 (test case 1).
JEFE = ("Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
HI_THERE = (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")


@pytest.mark.parametrize("key,message,expected", [JEFE, HI_THERE])
def test_known_vectors(key, message, expected):
    assert hmac_sha256_hex(key, message) == expected
    assert hmac_sha256(key, message) == bytes.fromhex(expected)


def test_text_and_byte_secrets_are_the_same_key():
    assert hmac_sha256("Jefe", JEFE[1]) == hmac_sha256(b"Jefe", JEFE[1])


def test_base64_is_the_same_digest():
    assert hmac_sha256_base64(*JEFE[:2]) == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_verification_accepts_the_right_signature_in_either_encoding():
    key, message, hex_signature = JEFE
    assert verify_hmac_sha256(key, message, hex_signature)
    assert verify_hmac_sha256(key, message, hex_signature.upper().encode())
    assert verify_hmac_sha256(key, message, hmac_sha256_base64(key, message), encoding="base64")


@pytest.mark.parametrize(
    "signature,encoding",
    [
        (HI_THERE[2], "hex"),  # another message's signature
        (JEFE[2][:-2], "hex"),  # truncated
        ("not hex at all", "hex"),
        ("", "hex"),
        ("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM", "base64"),  # missing padding
        ("☃", "base64"),
        (JEFE[2], "base64"),  # the right digest in the wrong encoding
    ],
)
def test_verification_refuses_anything_else(signature, encoding):
    assert verify_hmac_sha256(JEFE[0], JEFE[1], signature, encoding=encoding) is False


def test_a_changed_message_or_key_fails():
    key, message, signature = JEFE
    assert not verify_hmac_sha256(key, message + b" ", signature)
    assert not verify_hmac_sha256("jefe", message, signature)


def test_an_unknown_encoding_is_a_programming_error():
    with pytest.raises(ValueError, match="hex"):
        verify_hmac_sha256("k", b"m", "00", encoding="base32")  # type: ignore[arg-type]


@pytest.fixture
def fake():
    """A fake provider that records what it receives."""
    with FakeProviderServer() as server:
        server.route("POST", "/signed", lambda request: json_response(200, {}))
        server.route("GET", "/signed", lambda request: json_response(200, {}))
        yield server


@pytest.mark.parametrize(
    "options", [{"json": {"amount": "10.00", "name": "Ação"}}, {"data": b"\x00raw bytes\xff"}, {"data": {"a": "b c"}}, {}],
    ids=["json", "bytes", "form", "no-body"],
)
def test_the_signer_signs_the_exact_bytes_the_provider_receives(fake, options):
    """Given a signer, then whatever the body (JSON, bytes, a form, none), the header is the HMAC of what arrived."""
    method = "POST" if options else "GET"
    ProviderClient("acme", fake.url).request(method, "/signed", auth=HmacSha256Signer("s3cret"), **options)
    [received] = fake.requests
    assert received.headers["x-signature"] == hmac.new(b"s3cret", received.body, hashlib.sha256).hexdigest()


def test_the_signer_writes_base64_with_a_prefix_in_the_header_asked_for(fake):
    """Given base64 and a prefix, then the header carries prefix + base64 digest (the RFC 4231 vector)."""
    ProviderClient("acme", fake.url).request("POST", "/signed", data=JEFE[1], auth=HmacSha256Signer("Jefe", "X-Hub", "base64", "sha256="))
    assert fake.requests[0].headers["x-hub"] == "sha256=W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_a_streamed_body_cannot_be_signed():
    """Given a generator as the body, then the signer refuses before anything is sent."""
    request = requests.Request("POST", "https://example.com/x", data=iter([b"a"])).prepare()
    with pytest.raises(TypeError, match="cannot be signed"):
        HmacSha256Signer("s")(request)
