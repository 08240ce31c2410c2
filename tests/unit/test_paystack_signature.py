"""Webhook signatures: Paystack's plain HMAC-SHA512 header and the timestamped ``t=…,v1=…`` form."""

import hashlib
import hmac

import pytest

from revoque.adapters.payments import (
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    PaystackGateway,
    check_signature,
    sign_body,
    sign_timestamped,
)

SECRET = "sk_test_vector"
BODY = b'{"event":"charge.success","data":{"id":1}}'
NOW = 1_700_000_000
# HMAC-SHA512(SECRET, BODY), computed once (Python hmac, outside this code) and kept as a fixed vector.
KNOWN_SIGNATURE = (
    "d08a16771c905a5f998b542bd6c9565d9cd599766d76b8d1ecdef399a5addb64"
    "1a644a0e44920f6b78508d7e5fc32a6c703a942fdefa5c8035e142a3c98fa2f0"
)


def expected_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def test_plain_signature_matches_a_known_vector():
    assert sign_body(BODY, SECRET) == KNOWN_SIGNATURE
    assert sign_body(BODY, SECRET) == expected_hmac(SECRET, BODY)
    assert check_signature(BODY, KNOWN_SIGNATURE, SECRET)
    assert check_signature(BODY, KNOWN_SIGNATURE.upper(), SECRET)  # hex case does not matter


def test_timestamped_signature_covers_the_timestamp_and_body():
    header = sign_timestamped(BODY, SECRET, NOW)
    assert header == f"t={NOW},v1={expected_hmac(SECRET, f'{NOW}.'.encode() + BODY)}"
    assert check_signature(BODY, header, SECRET, now=NOW)
    assert check_signature(BODY, f" t={NOW} , v1={header.split('v1=')[1]} ", SECRET, now=NOW)


@pytest.mark.parametrize("timestamped", [False, True])
def test_a_tampered_body_or_the_wrong_key_is_rejected(timestamped):
    header = sign_timestamped(BODY, SECRET, NOW) if timestamped else sign_body(BODY, SECRET)
    tampered = BODY.replace(b'"id":1', b'"id":2')
    assert not check_signature(tampered, header, SECRET, now=NOW)
    assert not check_signature(BODY, header, "sk_test_other", now=NOW)


@pytest.mark.parametrize("header", ["", "   ", "not-hex", "t=,v1=", f"t={NOW}", "t=abc,v1=00", "v1=00"])
def test_missing_or_malformed_headers_are_rejected(header):
    assert not check_signature(BODY, header, SECRET, now=NOW)


def test_an_empty_secret_never_verifies():
    assert not check_signature(BODY, sign_body(BODY, ""), "", now=NOW)


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        (0, True),
        (SIGNATURE_TOLERANCE_SECONDS, True),
        (SIGNATURE_TOLERANCE_SECONDS + 1, False),  # too old: a captured delivery replayed later
        (-SIGNATURE_TOLERANCE_SECONDS, True),
        (-SIGNATURE_TOLERANCE_SECONDS - 1, False),  # from the future beyond the clock-skew allowance
    ],
)
def test_timestamped_signatures_expire(age, accepted):
    header = sign_timestamped(BODY, SECRET, NOW - age)
    assert check_signature(BODY, header, SECRET, now=NOW) is accepted


def test_the_timestamp_cannot_be_swapped_for_a_fresh_one():
    old = sign_timestamped(BODY, SECRET, NOW - 3600)
    forged = old.replace(f"t={NOW - 3600}", f"t={NOW}")
    assert not check_signature(BODY, forged, SECRET, now=NOW)


def test_the_gateway_reads_the_header_whatever_its_case():
    gateway = PaystackGateway(SECRET, "http://127.0.0.1:9")
    assert gateway.verify_signature(BODY, {SIGNATURE_HEADER: KNOWN_SIGNATURE})
    assert gateway.verify_signature(BODY, {"X-Paystack-Signature": KNOWN_SIGNATURE})
    assert not gateway.verify_signature(BODY, {})
    assert not gateway.verify_signature(BODY, {"x-other": KNOWN_SIGNATURE})
