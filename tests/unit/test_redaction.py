"""Redaction: card numbers, credentials and known secrets never survive, and nothing else is touched."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paycert.redaction import (
    MASK,
    Redactor,
    find_leaks,
    is_sensitive_key,
    luhn_valid,
    mask_pan,
    redact_form,
    redact_headers,
    redact_json,
    redact_text,
    redact_url,
)

VISA = "4111111111111111"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZXJjaGFudCJ9.c2lnbmF0dXJlLWJ5dGVz"


def with_check_digit(body: str) -> str:
    return next(body + d for d in string.digits if luhn_valid(body + d))


# -- card numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [(VISA, True), ("5555555555554444", True), ("378282246310005", True), ("4111111111111112", False)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize("written", [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005"])
def test_a_card_number_keeps_first_six_and_last_four(written: str) -> None:
    digits = written.replace(" ", "").replace("-", "")
    out = redact_text(f"card: {written}.")
    assert out == f"card: {digits[:6]}******{digits[-4:]}."


def test_numbers_that_are_not_card_numbers_stay() -> None:
    text = "order 4111111111111112, amount 1000, ts 1614265330, id 12345678901234567890123, 2024-01-15"
    assert redact_text(text) == text


def test_a_card_number_next_to_other_digit_groups_is_still_hidden() -> None:
    out = redact_text(f"12 {VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]} 2030")
    assert VISA not in out.replace(" ", "")
    assert not find_leaks(out)


def test_a_known_card_number_is_masked_even_glued_to_digits() -> None:
    out = redact_text(f"ref99{VISA}00", secrets=[VISA])
    assert out == "ref99411111******111100"


def test_mask_pan_never_shows_more_than_ten_digits() -> None:
    assert mask_pan("4111 1111 1111 1111") == "411111******1111"
    assert mask_pan("123456789") == MASK


# -- credentials in text ---------------------------------------------------------------------------------


def test_tokens_and_credential_fields_in_text() -> None:
    text = (
        f"Authorization: Bearer {JWT}\nid_token={JWT}&password=hunter2&cvv=123"
        "&authentication.sKey=K3y&client_secret=abc&amount=10.00&checksum=9f86d081"
    )
    assert redact_text(text) == (
        "Authorization: Bearer ***\nid_token=***&password=***&cvv=***"
        "&authentication.sKey=***&client_secret=***&amount=10.00&checksum=9f86d081"
    )


def test_a_bare_jwt_is_masked() -> None:
    assert redact_text(f"token was {JWT} today") == "token was *** today"


def test_prose_about_bearer_tokens_is_left_alone() -> None:
    text = 'Bearer token required; WWW-Authenticate: Bearer realm="sandbox"'
    assert redact_text(text) == text


def test_json_and_xml_bodies_handled_as_text() -> None:
    raw = '{"access_token": "abc.def", "cvv": 123, "token_type": "Bearer", "sKey":"x"} <password>p</password>'
    assert redact_text(raw) == (
        '{"access_token": "***", "cvv": "***", "token_type": "Bearer", "sKey":"***"} <password>***</password>'
    )


def test_a_credential_holding_a_card_shaped_run_of_digits_is_masked_whole() -> None:
    # A random hex secret holds a Luhn-valid run of 13+ digits now and then (the sandbox's `whsec_` + 48 hex
    # did in CI). The card rule masks that run first; the credential's key must still mask the rest of it,
    # also before the run knows the value is a secret (a registration's answer is recorded before it is read).
    secret = "whsec_ab4111111111111111" + "c" * 26
    body = f'{{"webhookId": "wh_1", "secret": "{secret}"}}'
    assert redact_text(body) == '{"webhookId": "wh_1", "secret": "***"}'
    assert redact_text(f"client_secret={secret}&x=1") == "client_secret=***&x=1"
    assert (
        redact_form(f"client_secret={secret}&cardNumber={VISA}")
        == "client_secret=***&cardNumber=411111******1111"
    )
    assert redact_text(f"<password>{secret}</password>") == "<password>***</password>"
    # Where no key names it, the card rule leaves the rest of it; once the run knows the secret, that form of
    # it is known too.
    half_masked = redact_text(f"registration = {{'secret': '{secret}'}}")
    assert "whsec_ab411111******1111ccc" in half_masked
    assert redact_text(half_masked, [secret]) == "registration = {'secret': '***'}"
    # A card number's own field keeps its mask: masked is what it should be.
    assert redact_text('{"cardNumber": "411111******1111"}') == '{"cardNumber": "411111******1111"}'


def test_known_secrets_are_masked_raw_url_encoded_and_json_escaped() -> None:
    secret = 'p@ss w/"q"'
    text = f'raw {secret} url p%40ss%20w%2F%22q%22 form p%40ss+w%2F%22q%22 json "{json.dumps(secret)[1:-1]}"'
    out = redact_text(text, [secret])
    assert out == 'raw *** url *** form *** json "***"'
    assert find_leaks(text, [secret])
    assert not find_leaks(out, [secret])


def test_short_secrets_are_ignored_so_text_is_not_shredded() -> None:
    assert redact_text("abc def", ["abc"]) == "abc def"


# -- structured values -----------------------------------------------------------------------------------


def test_redact_json_masks_by_key_and_keeps_what_is_not_secret() -> None:
    document = {
        "card": {"number": VISA, "cvv": "123", "expiryMonth": "12", "bin": "411111", "last4Digits": "1111"},
        "cardNumber": "4111111111111112",
        "access_token": "tok_abcdef",
        "refresh_token": None,
        "secureKey": "sk_live",
        "checksum": "5d41402abc4b2a76b9719d911017c592",
        "payments": [{"client_secret": "cs_x", "amount": 1000, "note": f"paid with {VISA}"}],
        "authtoken": "abc",
        "success": True,
    }
    assert redact_json(document) == {
        "card": {
            "number": "411111******1111",
            "cvv": MASK,
            "expiryMonth": "12",
            "bin": "411111",
            "last4Digits": "1111",
        },
        "cardNumber": "411111******1112",
        "access_token": MASK,
        "refresh_token": None,
        "secureKey": MASK,
        "checksum": "5d41402abc4b2a76b9719d911017c592",
        "payments": [{"client_secret": MASK, "amount": 1000, "note": "paid with 411111******1111"}],
        "authtoken": MASK,
        "success": True,
    }


def test_redact_json_does_not_modify_its_input() -> None:
    document = {"password": "x", "nested": {"token": "y"}}
    redact_json(document)
    assert document == {"password": "x", "nested": {"token": "y"}}


def test_redact_headers_keeps_the_scheme_word_and_the_signatures() -> None:
    headers = {
        "Authorization": f"Bearer {JWT}",
        "Proxy-Authorization": "Basic dXNlcjpwYXNz",
        "authtoken": JWT,
        "Cookie": "session=abc",
        "Set-Cookie": "session=abc; Path=/",
        "X-Api-Key": "key_123",
        "X-Signature": "9f86d081884c7d65",
        "Stripe-Signature": "t=1,v1=abc",
        "Content-Type": "application/json",
        "X-Note": "sent by secret-value-1",
    }
    assert redact_headers(headers, ["secret-value-1"]) == {
        "Authorization": "Bearer ***",
        "Proxy-Authorization": "Basic ***",
        "authtoken": MASK,
        "Cookie": MASK,
        "Set-Cookie": MASK,
        "X-Api-Key": MASK,
        "X-Signature": "9f86d081884c7d65",
        "Stripe-Signature": "t=1,v1=abc",
        "Content-Type": "application/json",
        "X-Note": "sent by ***",
    }


def test_redact_url() -> None:
    url = f"https://user:pw@gw.test/cards/{VISA}?client_secret=a%2Bb&amount=10.00&card.number=4111111111111112#x"
    assert redact_url(url) == (
        "https://user:***@gw.test/cards/411111******1111?client_secret=***&amount=10.00"
        "&card.number=411111******1112#x"
    )


def test_redact_form_keeps_encoding_of_untouched_fields() -> None:
    body = (
        "authentication.partnerId=p1&authentication.sKey=K%2Bey&card.number=4111+1111+1111+1111"
        "&card.cvv=123&merchantRedirectUrl=http%3A%2F%2F127.0.0.1%2Freturn&amount=10.00"
    )
    assert redact_form(body) == (
        "authentication.partnerId=p1&authentication.sKey=***&card.number=411111******1111"
        "&card.cvv=***&merchantRedirectUrl=http%3A%2F%2F127.0.0.1%2Freturn&amount=10.00"
    )


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("password", True),
        ("authentication.sKey", True),
        ("client_secret", True),
        ("webhookSecret", True),
        ("X-Api-Key", True),
        ("access_token", True),
        ("CVV", True),
        ("checksum", False),
        ("X-Signature", False),
        ("token_type", False),
        ("amount", False),
    ],
)
def test_is_sensitive_key(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_the_redactor_carries_the_runs_secrets() -> None:
    redactor = Redactor(["client-secret-1"])
    redactor.add_secret("whsec_abcdef")
    redactor.add_secret("ab")  # too short to mask safely: ignored
    redactor.add_secret(None)
    assert redactor.secrets == ("client-secret-1", "whsec_abcdef")
    assert redactor.text("a client-secret-1 b whsec_abcdef") == "a *** b ***"
    assert redactor.json({"note": "whsec_abcdef"}) == {"note": MASK}
    assert redactor.headers({"X-Note": "client-secret-1"}) == {"X-Note": MASK}
    assert redactor.url("http://h/?q=client-secret-1") == "http://h/?q=***"
    assert redactor.form("a=whsec_abcdef") == "a=***"
    assert redactor.leaks("xx whsec_abcdef") == ["secret #2 (12 chars) at offset 3"]


def test_find_leaks_describes_without_echoing() -> None:
    secret = "super-secret-value"
    leaks = find_leaks(f"{secret} {VISA} Bearer abcdefgh123 {JWT} cvv=123", [secret])
    assert len(leaks) == 5
    joined = "\n".join(leaks)
    assert secret not in joined
    assert VISA not in joined
    assert "abcdefgh123" not in joined
    assert "411111******1111" in joined


# -- properties ------------------------------------------------------------------------------------------

pans = st.builds(
    lambda first, middle: with_check_digit(first + middle),
    st.sampled_from("3456"),
    st.text(string.digits, min_size=14, max_size=14),
)
separators = st.sampled_from([" ", "\n", ":", "=", "|", '"', ",", " - ", "\t"])
texts = st.text(max_size=60)
plain_texts = st.text(
    st.characters(exclude_categories=["Nd", "Cs"], exclude_characters="=*<>\"'"), max_size=80
).filter(lambda t: "bearer" not in t.lower() and "basic" not in t.lower() and "eyJ" not in t)
secret_values = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="*"), min_size=4, max_size=24
)


@settings(max_examples=300, deadline=None)
@given(before=texts, sep1=separators, pan=pans, sep2=separators, after=texts, grouped=st.booleans())
def test_a_card_number_never_survives(
    before: str, sep1: str, pan: str, sep2: str, after: str, grouped: bool
) -> None:
    written = " ".join(pan[i : i + 4] for i in range(0, 16, 4)) if grouped else pan
    out = redact_text(before + sep1 + written + sep2 + after)
    assert pan not in out
    assert written not in out
    assert not [leak for leak in find_leaks(out) if leak.startswith("card number")]


@settings(max_examples=200, deadline=None)
@given(before=plain_texts, pan=pans, after=plain_texts)
def test_the_mask_keeps_first_six_and_last_four(before: str, pan: str, after: str) -> None:
    assert redact_text(f"{before} {pan} {after}") == f"{before} {pan[:6]}******{pan[-4:]} {after}"


@settings(max_examples=300, deadline=None)
@given(secrets=st.lists(secret_values, min_size=1, max_size=3), parts=st.lists(texts, min_size=1, max_size=4))
def test_secrets_never_survive(secrets: list[str], parts: list[str]) -> None:
    text = "".join(part + secrets[i % len(secrets)] for i, part in enumerate(parts))
    out = redact_text(text, secrets)
    assert all(secret not in out for secret in secrets)
    assert not [leak for leak in find_leaks(out, secrets) if leak.startswith("secret")]


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.one_of(
            texts,
            pans,
            st.just(f"Bearer {JWT}"),
            st.sampled_from(["password=x1", "&cvv=123", '"token": "t"', " 4111 1111 1111 1111 ", "-"]),
        ),
        max_size=8,
    ),
    secrets=st.lists(secret_values, max_size=2),
)
def test_redacting_twice_is_redacting_once(parts: list[str], secrets: list[str]) -> None:
    once = redact_text("".join(parts), secrets)
    assert redact_text(once, secrets) == once


@settings(max_examples=300, deadline=None)
@given(text=plain_texts)
def test_text_without_anything_secret_is_unchanged(text: str) -> None:
    assert redact_text(text) == text
    assert find_leaks(text) == []


@settings(max_examples=200, deadline=None)
@given(pan=pans, password=st.text(string.ascii_letters + string.digits, min_size=8, max_size=16), note=texts)
def test_redacted_json_serialises_clean(pan: str, password: str, note: str) -> None:
    secret = f"pw-{password}"
    document = {"card": {"number": pan, "cvv": "123"}, "login": {"password": secret}, "note": note + secret}
    out = json.dumps(redact_json({**document, "n": int(pan)}, [secret]))
    assert pan not in out
    assert secret not in out
    assert find_leaks(out, [secret]) == []
