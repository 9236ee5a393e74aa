"""Webhook signature schemes: known vectors, each way a signature must fail, and a round-trip property."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paycert.webhooks.signatures import (
    SCHEMES,
    WEAKNESS,
    Signed,
    UnknownSchemeError,
    get_scheme,
)

NOW = 1_700_000_000
SECRET = "s3cr3t-shared-with-the-merchant"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CALLBACK = {
    "paymentId": "pay_123",
    "status": "capturesuccess",
    "transactionStatus": "Y",
    "amount": "10.00",
    "currency": "EUR",
    "merchantTransactionId": "order-42",
}

SIGNING_SCHEMES = [name for name in SCHEMES if name != "none"]


def secret_for(name: str) -> str:
    return WHSEC if name == "standard-webhooks" else SECRET


def body_for(name: str) -> bytes:
    return json.dumps(CALLBACK).encode() if name == "md5-callback-checksum" else b'{"event":"paid"}'


def test_the_registry_lists_every_scheme_by_its_exact_name() -> None:
    assert SCHEMES == (
        "sha256-secret-body",
        "md5-callback-checksum",
        "hmac-sha256-hex",
        "stripe",
        "standard-webhooks",
        "none",
    )
    assert all(get_scheme(name).name == name for name in SCHEMES)


def test_an_unknown_scheme_is_a_key_error_naming_the_known_ones() -> None:
    with pytest.raises(UnknownSchemeError) as raised:
        get_scheme("rot13")
    assert isinstance(raised.value, KeyError)
    assert "rot13" in str(raised.value)
    assert "standard-webhooks" in str(raised.value)


def test_standard_webhooks_published_vector() -> None:
    scheme = get_scheme("standard-webhooks")
    signed = scheme.sign(
        WHSEC, b'{"test": 2432232314}', msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330
    )
    assert signed.headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    assert scheme.verify(WHSEC, signed.body, signed.headers, now=1614265330).ok


def test_standard_webhooks_accepts_any_of_several_signatures() -> None:
    scheme = get_scheme("standard-webhooks")
    signed = scheme.sign(WHSEC, b"{}", msg_id="msg_1", timestamp=NOW)
    headers = dict(signed.headers)
    headers["webhook-signature"] = "v1,AAAA v2,whatever " + headers["webhook-signature"]
    assert scheme.verify(WHSEC, b"{}", headers, now=NOW).ok


def test_standard_webhooks_rejects_a_secret_that_is_not_base64() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        get_scheme("standard-webhooks").sign("whsec_not base64!", b"{}")


def test_sha256_secret_body_is_the_plain_digest_and_carries_its_weakness() -> None:
    scheme = get_scheme("sha256-secret-body")
    body = b'{"paymentId":"p1","status":"SUCCESS"}'
    signed = scheme.sign(SECRET, body)
    assert signed == Signed(body, {"X-Signature": hashlib.sha256(SECRET.encode() + body).hexdigest()})
    assert "length extension" in WEAKNESS
    assert getattr(scheme, "finding", None) == WEAKNESS


def test_hmac_sha256_hex_vector() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert get_scheme("hmac-sha256-hex").sign(SECRET, body).headers == {"X-Signature": expected}


def test_stripe_vector_follows_the_documented_formula() -> None:
    body = b'{"id":"evt_1","type":"charge.succeeded"}'
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    signed = get_scheme("stripe").sign(SECRET, body, timestamp=NOW)
    assert signed.headers == {"Stripe-Signature": f"t={NOW},v1={expected}"}


def test_stripe_accepts_when_any_v1_matches() -> None:
    scheme = get_scheme("stripe")
    good = scheme.sign(SECRET, b"{}", timestamp=NOW).headers["Stripe-Signature"].split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{good},v0=ignored"
    assert scheme.verify(SECRET, b"{}", {"stripe-signature": header}, now=NOW).ok


def test_stripe_rejects_a_header_without_a_timestamp() -> None:
    verdict = get_scheme("stripe").verify(SECRET, b"{}", {"Stripe-Signature": "v1=abcd"}, now=NOW)
    assert verdict.reason == "signature header malformed"


def test_md5_callback_checksum_vector_and_key_order() -> None:
    signed = get_scheme("md5-callback-checksum").sign("secureKey123", json.dumps(CALLBACK).encode())
    document = json.loads(signed.body)
    joined = "pay_123|order-42|10.00|Y|secureKey123"
    assert document["checksum"] == hashlib.md5(joined.encode()).hexdigest()
    assert list(document) == [*CALLBACK, "checksum"]
    assert signed.body == json.dumps(document, separators=(",", ":")).encode()
    assert signed.headers == {}


def test_md5_callback_checksum_replaces_an_existing_checksum_in_place() -> None:
    body = json.dumps({"checksum": "stale", **CALLBACK}).encode()
    signed = get_scheme("md5-callback-checksum").sign("k3y!", body)
    assert next(iter(json.loads(signed.body))) == "checksum"
    assert get_scheme("md5-callback-checksum").verify("k3y!", signed.body, {}).ok


def test_md5_callback_checksum_missing_is_reported() -> None:
    verdict = get_scheme("md5-callback-checksum").verify("k3y!", json.dumps(CALLBACK).encode(), {})
    assert verdict.ok is False
    assert verdict.reason == "checksum missing"


def test_none_never_verifies_and_says_why() -> None:
    scheme = get_scheme("none")
    assert scheme.sign(SECRET, b"{}") == Signed(b"{}", {})
    verdict = scheme.verify(SECRET, b"{}", {}, now=NOW)
    assert (verdict.ok, verdict.reason) == (False, "gateway does not sign webhooks")


@pytest.mark.parametrize("name", SIGNING_SCHEMES)
def test_verify_matches_headers_case_insensitively(name: str) -> None:
    scheme = get_scheme(name)
    signed = scheme.sign(secret_for(name), body_for(name), msg_id="msg_1", timestamp=NOW)
    shouted = {key.upper(): value for key, value in signed.headers.items()}
    assert scheme.verify(secret_for(name), signed.body, shouted, now=NOW).ok


@pytest.mark.parametrize("name", SIGNING_SCHEMES)
def test_a_tampered_body_is_a_mismatch(name: str) -> None:
    scheme = get_scheme(name)
    signed = scheme.sign(secret_for(name), body_for(name), timestamp=NOW)
    tampered = signed.body.replace(b"10.00", b"99.00").replace(b"paid", b"void")
    assert tampered != signed.body
    verdict = scheme.verify(secret_for(name), tampered, signed.headers, now=NOW)
    assert (verdict.ok, verdict.reason) == (False, "signature mismatch")


@pytest.mark.parametrize("name", SIGNING_SCHEMES)
def test_a_wrong_secret_is_a_mismatch(name: str) -> None:
    scheme = get_scheme(name)
    signed = scheme.sign(secret_for(name), body_for(name), timestamp=NOW)
    wrong = "whsec_" + base64.b64encode(b"another key").decode() if name == "standard-webhooks" else "wrong"
    verdict = scheme.verify(wrong, signed.body, signed.headers, now=NOW)
    assert (verdict.ok, verdict.reason) == (False, "signature mismatch")


@pytest.mark.parametrize("name", [n for n in SIGNING_SCHEMES if n != "md5-callback-checksum"])
def test_a_missing_header_is_reported(name: str) -> None:
    scheme = get_scheme(name)
    signed = scheme.sign(secret_for(name), body_for(name), timestamp=NOW)
    verdict = scheme.verify(secret_for(name), signed.body, {"Content-Type": "application/json"}, now=NOW)
    assert (verdict.ok, verdict.reason) == (False, "signature header missing")


@pytest.mark.parametrize("name", ["stripe", "standard-webhooks"])
@pytest.mark.parametrize("skew", [-301, 301])
def test_a_stale_or_future_timestamp_is_rejected(name: str, skew: int) -> None:
    scheme = get_scheme(name)
    signed = scheme.sign(secret_for(name), b"{}", timestamp=NOW)
    assert scheme.verify(secret_for(name), b"{}", signed.headers, now=NOW + 300).ok
    verdict = scheme.verify(secret_for(name), b"{}", signed.headers, now=NOW + skew)
    assert (verdict.ok, verdict.reason) == (False, "timestamp outside tolerance")


# -- round-trip property: whatever is signed verifies, and any one-byte change breaks it -------------------

secrets_text = st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s)
whsecs = st.binary(min_size=16, max_size=40).map(lambda key: "whsec_" + base64.b64encode(key).decode())
raw_bodies = st.binary(min_size=1, max_size=200)
callbacks = st.fixed_dictionaries(
    {
        "paymentId": st.text(max_size=20),
        "merchantTransactionId": st.text(max_size=20),
        "amount": st.decimals(min_value=0, max_value=10**6, places=2).map(str),
        "transactionStatus": st.sampled_from(["Y", "N", "P", "3D", "C"]),
    },
    optional={"currency": st.sampled_from(["EUR", "USD"])},
).map(lambda doc: json.dumps(doc).encode())


@st.composite
def signing_cases(draw: st.DrawFn) -> tuple[str, str, bytes]:
    name = draw(st.sampled_from(SIGNING_SCHEMES))
    secret = draw(whsecs if name == "standard-webhooks" else secrets_text)
    body = draw(callbacks if name == "md5-callback-checksum" else raw_bodies)
    return name, secret, body


@settings(max_examples=300, deadline=None)
@given(case=signing_cases(), data=st.data())
def test_round_trip_and_any_one_byte_change_fails(case: tuple[str, str, bytes], data: st.DataObject) -> None:
    name, secret, body = case
    scheme = get_scheme(name)
    signed = scheme.sign(secret, body, msg_id="msg_rt", timestamp=NOW)
    assert scheme.verify(secret, signed.body, signed.headers, now=NOW).ok

    position = data.draw(st.integers(0, len(signed.body) - 1), label="position")
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != signed.body[position]), label="byte")
    changed = bytearray(signed.body)
    changed[position] = replacement
    if not scheme.verify(secret, bytes(changed), signed.headers, now=NOW).ok:
        return
    # Only the txservices checksum lets a change through, and only outside what it covers: that is the
    # weakness the report names. Prove the change left every covered field (and the checksum) as it was.
    assert name == "md5-callback-checksum"
    assert covered(bytes(changed)) == covered(signed.body)


def covered(body: bytes) -> tuple[str, ...]:
    document = json.loads(body)
    fields = ("paymentId", "merchantTransactionId", "amount", "transactionStatus")
    return (*(document[field] for field in fields), document["checksum"].lower())
