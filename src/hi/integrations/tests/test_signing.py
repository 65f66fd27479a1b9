"""HMAC-SHA256 helpers against RFC 4231's test vectors, and constant-time verification."""

from __future__ import annotations

import pytest

from hi.integrations.outbound.signing import hmac_sha256, hmac_sha256_base64, hmac_sha256_hex, verify_hmac_sha256

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
