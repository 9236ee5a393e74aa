"""The fast redaction (issue 15) masks exactly what the plain rules mask: same text out, same leaks found.

tests/redaction/reference.py is the redaction as it was before: every rule a plain scan of the whole text.
The fast one skips a rule's scan when a cheaper look shows it cannot match, caches what depends only on the
secrets or a field name, and finds digits, stars, `=` and keys from where they start. Each test below feeds
both the same input, built from the pieces those shortcuts decide on, and wants the same answer.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paycert.redaction import find_leaks, luhn_valid, redact_json, redact_text
from paycert.redaction import redact as fast
from tests.redaction import reference

VISA = "4111111111111111"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZXJjaGFudCJ9.c2lnbmF0dXJlLWJ5dGVz"

# Field names of every kind the rules tell apart: credentials (by suffix, by name, dotted, with `_`/`-`),
# card numbers (by name, `card.number`), look-alikes that are not (`token[]`, `9token`, `checksum`), and a
# key longer than the window the `=` check first looks back over.
KEYS = [
    "password",
    "pass_word",
    "client_secret",
    "X-Api-Key",
    "authentication.sKey",
    "access_token",
    "token[]",
    "9token",
    "CVV",
    "cvv2",
    "pin",
    "Authorization",
    "cookie",
    "card.number",
    "cardNumber",
    "PAN",
    "number",
    "amount",
    "checksum",
    "x" + "_" * 70 + "token",
    "a" * 80,
]
# What sits between, around and inside keys and values: each rule's delimiters, masks already made, and
# the escapes of the forms a secret is looked for in.
PIECES = [
    "=",
    '"',
    '": ',
    '":"',
    "<",
    ">",
    "</",
    "&",
    "?",
    " ",
    "-",
    "\n",
    ",",
    ";",
    "+",
    "%20",
    "\\",
    "***",
    "******",
    "*******",
    "411111******1111",
    "${PAYCERT_GUSTAFFO_TOKEN}",
    "$PAYCERT_X",
    "Bearer ",
    "bearer\t",
    "BASIC ",
    "Ba\u017fic ",  # the long s matches s when case is ignored
    "Bearer realm=",
    "xBearer ",
    "abcdefgh123",
    "dXNlcjpwYXNz==",
    "eyJ",
    JWT,
    VISA,
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "12 4111 1111 1111 1111 2030",
    "0000000000000",
]


def with_check_digit(body: str) -> str:
    return next(body + d for d in string.digits if luhn_valid(body + d))


pans = st.builds(
    lambda first, middle: with_check_digit(first + middle),
    st.sampled_from("3456"),
    st.text(string.digits, min_size=11, max_size=17),
)
digits = st.text("0123456789 -*", max_size=24)
secret_values = st.one_of(
    # ...including a secret with a run of digits that passes Luhn, as a random hex secret can hold.
    st.sampled_from(
        ["whsec_s3cr3t", 'p@ss w/"q"', "tok9f8e7d6c5b4a3", "zé\\n1", VISA, "1234", f"whsec_ab{VISA}cd"]
    ),
    st.text(min_size=1, max_size=14),
)


@st.composite
def texts_and_secrets(draw: st.DrawFn) -> tuple[str, list[str]]:
    secrets = draw(st.lists(secret_values, max_size=3))
    # Each secret as it may be written: raw, URL-encoded, JSON-escaped, or cut in two.
    forms = [
        form
        for secret in secrets
        for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1], secret[:3])
    ]
    piece = st.one_of(
        st.sampled_from(KEYS),
        st.sampled_from(PIECES),
        pans,
        digits,
        st.text(max_size=6),
        *([st.sampled_from(forms)] if forms else []),
    )
    return "".join(draw(st.lists(piece, max_size=24))), secrets


@settings(max_examples=1500, deadline=None)
@given(case=texts_and_secrets())
def test_redact_text_masks_what_the_plain_rules_mask(case: tuple[str, list[str]]) -> None:
    text, secrets = case
    assert redact_text(text, secrets) == reference.redact_text(text, secrets)


@settings(max_examples=800, deadline=None)
@given(case=texts_and_secrets())
def test_find_leaks_finds_what_the_plain_rules_find(case: tuple[str, list[str]]) -> None:
    text, secrets = case
    assert find_leaks(text, secrets) == reference.find_leaks(text, secrets)


def documents(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        text,
        st.none(),
        st.booleans(),
        st.integers(),
        pans.map(int),
        st.floats(allow_nan=False),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from([*KEYS, "card", "payment", "note"]), children, max_size=4),
        ),
        max_leaves=12,
    )


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_redact_json_masks_what_the_plain_rules_mask(data: st.DataObject) -> None:
    text, secrets = data.draw(texts_and_secrets())
    document = data.draw(documents(st.one_of(st.just(text), st.sampled_from(PIECES), pans)))
    assert redact_json(document, secrets) == reference.redact_json(document, secrets)


@pytest.mark.parametrize(
    "text",
    [
        # The `=` check looks back 64 characters first, then further: the key must still be found whole.
        "x" + "_" * 300 + "password=hunter2",
        "q=1&" + "a" * 200 + "_secret=s3cr3t&b=2",
        "9" + "a" * 70 + "token=notakey",
        ".token=x [token]=y token[]=z",
        "card.number=4111+1111+1111+1111&cvv=123&amount=10",
        "client_secret=${PAYCERT_GUSTAFFO_CLIENT_SECRET} password=*** token=",
        # JSON members and XML elements: only sensitive keys with values not yet masked change.
        '{"Authorization": "Bearer abc.def", "amount": 10, "cvv": 123, "token": "***"}',
        '{"a": "\\"token\\": \\"x\\"", "card": {"number": "4111111111111111"}}',
        "<cardNumber>4111 1111 1111 1111</cardNumber><td>4111111111111111</td><password>p</password>",
        "<password>***</password><pin>12</pin><Pin>1234</pin>",
        # A key seen masked first and unmasked later: every place it appears counts.
        '{"token": "***"} {"token": "abc"} <pin>***</pin> <pin>12</pin>',
        # Auth schemes in any case, the long s and the dotless i matching s and i, and not inside a word.
        "Ba\u017f\u0131c dXNlcjpwYXNz bEaReR abcdefgh1 xBearer abcdefgh1 Bearer short Bearer realm=x",
        # Masked card numbers are barriers; six stars alone are not a mask.
        "1234 411111******1111 5678 4111 1111 1111 1111",
        "******4111111111111111****** 411111*******1111 7411111******11119",
        "ids 12345678901234567890123 2024-01-15 10:00 1614265330 " + "0" * 64,
        "eyJ eyJabc. " + JWT + "x",
    ],
)
def test_edge_cases_of_the_shortcuts(text: str) -> None:
    for secrets in ([], ["hunter2", "abc.def"]):
        assert redact_text(text, secrets) == reference.redact_text(text, secrets)
        assert find_leaks(text, secrets) == reference.find_leaks(text, secrets)


@settings(max_examples=500, deadline=None)
@given(
    text=st.lists(st.one_of(digits, pans, st.sampled_from(["411111******1111", "******", "x"])), max_size=12)
)
def test_card_numbers_and_masks_are_found_where_the_plain_scans_find_them(text: list[str]) -> None:
    joined = "".join(text)
    assert [m.span() for m in fast._masked_pans(joined)] == [
        m.span() for m in reference._MASKED_PAN.finditer(joined)
    ]
    assert fast._find_pans(joined) == reference._find_pans(joined)


def test_many_secrets_longer_and_shorter_than_the_text() -> None:
    # Forms longer than a text are not looked for in it; the shorter ones still are, longest first.
    secrets = [f"token-{n:03d}-" + "x" * n for n in range(60)] + ["abcd", "abcdef"]
    for text in ("abcdef", "abcd abcdef", "token-002-xx", "a token-059-" + "x" * 59 + " b", "xyz"):
        assert redact_text(text, secrets) == reference.redact_text(text, secrets)
