"""Standard Webhooks v1: interoperability with the reference library, rotation, tampering, time and bad input."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hi.integrations.outbound import standard_webhooks as sw

BODY = b'{"type":"order.created","timestamp":"2026-05-09T12:00:00Z","data":{"id":"o_1","total_q":1250}}'
NOW = 1_778_328_000
# The example secret of the spec and of the reference libraries' tests.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_a_generated_secret_is_whsec_and_32_random_bytes():
    secret = sw.generate_secret()
    assert secret.startswith("whsec_")
    assert len(sw.secret_bytes(secret)) == 32
    assert sw.generate_secret() != secret


def test_the_spec_secret_and_its_unprefixed_form_are_the_same_key():
    assert (
        sw.secret_bytes(SPEC_SECRET)
        == sw.secret_bytes(SPEC_SECRET.removeprefix("whsec_"))
        == base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    )


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "whsec_not base64!",
        "whsec_" + "A" * 5,
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
        "whsec_=AAAA",
        None,
    ],
)
def test_a_malformed_secret_is_a_clear_value_error(secret):
    with pytest.raises(ValueError, match="webhook secret"):
        sw.secret_bytes(secret)  # type: ignore[arg-type]


def test_generate_secret_refuses_a_size_outside_the_spec():
    with pytest.raises(ValueError, match="24 to 64"):
        sw.generate_secret(16)


def test_a_message_id_is_msg_and_hex_and_new_each_time():
    first, second = sw.new_message_id(), sw.new_message_id()
    assert first.startswith("msg_") and len(first) == 36 and first != second
    int(first.removeprefix("msg_"), 16)


def test_sign_matches_the_reference_library():
    msg_id = sw.new_message_id()
    expected = Webhook(SPEC_SECRET).sign(msg_id, datetime.fromtimestamp(NOW, tz=timezone.utc), BODY.decode())
    assert sw.sign(msg_id, NOW, BODY, SPEC_SECRET) == expected


def test_a_delivery_we_sign_verifies_with_the_reference_library():
    secret = sw.generate_secret()
    headers = sw.headers(sw.new_message_id(), int(time.time()), BODY, [secret])
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(secret).verify(BODY, headers)["data"]["id"] == "o_1"


def test_a_message_the_reference_library_signs_verifies_with_ours():
    secret, msg_id, now = sw.generate_secret(), "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", int(time.time())
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(now, tz=timezone.utc), BODY.decode())
    headers = {"Webhook-Id": msg_id, "Webhook-Timestamp": str(now), "Webhook-Signature": signature}
    sw.verify(headers, BODY, [secret])  # header names in any case


def test_while_rotating_both_secrets_sign_and_either_alone_verifies():
    old, new = sw.generate_secret(), sw.generate_secret()
    headers = sw.headers(sw.new_message_id(), int(time.time()), BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
        sw.verify(headers, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(sw.generate_secret()).verify(BODY, headers)


def test_the_receiver_may_hold_several_secrets():
    sender, other = sw.generate_secret(), sw.generate_secret()
    sw.verify(sw.headers("msg_1", NOW, BODY, [sender]), BODY, [other, sender], now=NOW)


def test_other_versions_and_garbage_entries_are_skipped():
    secret = sw.generate_secret()
    good = sw.sign("msg_1", NOW, BODY, secret)
    value = f"v1a,{good[3:]} v2,xyz v1,not-base64 nonsense {good}"
    sw.verify(
        {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": value}, BODY, [secret], now=NOW
    )
    with pytest.raises(sw.SignatureError) as failure:
        value = f"v1a,{good[3:]}"  # the right bytes under another version's name do not count
        sw.verify(
            {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": value}, BODY, [secret], now=NOW
        )
    assert failure.value.reason == "no_match"


@pytest.mark.parametrize(
    "change",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: (h, b.replace(b"1250", b"1")),
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(NOW + 1)}, b),
    ],
    ids=["body-appended", "body-changed", "id", "timestamp"],
)
def test_tampering_fails(change):
    secret = sw.generate_secret()
    headers, body = change(sw.headers("msg_1", NOW, BODY, [secret]), BODY)
    with pytest.raises(sw.SignatureError) as failure:
        sw.verify(headers, body, [secret], now=NOW)
    assert failure.value.reason == "no_match"


@pytest.mark.parametrize("offset,reason", [(-301, "stale"), (-3600, "stale"), (301, "future")])
def test_a_timestamp_beyond_five_minutes_fails(offset, reason):
    secret = sw.generate_secret()
    headers = sw.headers("msg_1", NOW + offset, BODY, [secret])
    with pytest.raises(sw.SignatureError) as failure:
        sw.verify(headers, BODY, [secret], now=NOW)
    assert failure.value.reason == reason
    sw.verify(headers, BODY, [secret], now=NOW, tolerance_s=abs(offset))  # the boundary itself passes


@pytest.mark.parametrize(
    "headers,reason",
    [
        ({}, "missing_header"),
        ({"webhook-id": "msg_1", "webhook-timestamp": str(NOW)}, "missing_header"),
        ({"webhook-id": "", "webhook-timestamp": str(NOW), "webhook-signature": "v1,x"}, "missing_header"),
        ({"webhook-id": "msg.1", "webhook-timestamp": str(NOW), "webhook-signature": "v1,x"}, "bad_id"),
        ({"webhook-id": "msg_1", "webhook-timestamp": f"{NOW}.5", "webhook-signature": "v1,x"}, "bad_timestamp"),
        ({"webhook-id": "msg_1", "webhook-timestamp": "-1", "webhook-signature": "v1,x"}, "bad_timestamp"),
        ({"webhook-id": "msg_1", "webhook-timestamp": "9" * 400, "webhook-signature": "v1,x"}, "bad_timestamp"),
        ({"webhook-id": "msg_1", "webhook-timestamp": "١٢٣", "webhook-signature": "v1,x"}, "bad_timestamp"),
    ],
)
def test_bad_headers_fail_with_their_reason(headers, reason):
    with pytest.raises(sw.SignatureError) as failure:
        sw.verify(headers, BODY, [SPEC_SECRET], now=NOW)
    assert failure.value.reason == reason


def test_signing_refuses_an_id_with_a_dot_and_a_bad_timestamp():
    with pytest.raises(ValueError, match="'.'"):
        sw.sign("msg.1", NOW, BODY, SPEC_SECRET)
    with pytest.raises(ValueError, match="Unix seconds"):
        sw.sign("msg_1", 1.5, BODY, SPEC_SECRET)  # type: ignore[arg-type]


def test_no_secret_is_a_configuration_error_not_a_verification_failure():
    with pytest.raises(ValueError, match="at least one secret"):
        sw.verify(sw.headers("msg_1", NOW, BODY, [SPEC_SECRET]), BODY, [], now=NOW)
    with pytest.raises(ValueError, match="at least one secret"):
        sw.signature_header("msg_1", NOW, BODY, [])


HEADER_NAMES = st.sampled_from(["webhook-id", "Webhook-Timestamp", "WEBHOOK-SIGNATURE", "webhook-signature"])
NEAR_NOW = st.integers(NOW - 400, NOW + 400).map(str)
SIGNATURES = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.binary(min_size=0, max_size=40).map(lambda b: "v1," + base64.b64encode(b).decode()),
        st.sampled_from(["v1,", "v1", ",", "v1,,", "v1a,abc", "v1,===="]),
    ),
    max_size=5,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.dictionaries(st.one_of(HEADER_NAMES, st.text(max_size=20)), st.one_of(NEAR_NOW, SIGNATURES, st.text())),
    body=st.binary(max_size=200),
)
def test_arbitrary_headers_and_bodies_only_ever_fail_with_signature_error(headers, body):
    with pytest.raises(sw.SignatureError):
        sw.verify(headers, body, [SPEC_SECRET], now=NOW)


@settings(max_examples=200, deadline=None)
@given(msg_id=st.text(min_size=1, max_size=40), stamp=NEAR_NOW, signature=SIGNATURES, body=st.binary(max_size=200))
def test_well_formed_but_forged_requests_fail_with_signature_error(msg_id, stamp, signature, body):
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature}
    with pytest.raises(sw.SignatureError):
        sw.verify(headers, body, [SPEC_SECRET], now=NOW)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=500), stamp=st.integers(NOW - 300, NOW + 300))
def test_any_body_we_sign_verifies(body, stamp):
    secret = SPEC_SECRET
    sw.verify(sw.headers("msg_1", stamp, body, [secret]), body, [secret], now=NOW)
