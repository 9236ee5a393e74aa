"""Redaction applied to everything paycert writes: reports, evidence, logs, curl lines.

What it removes: card numbers (shown as first 6 / last 4 at most), CVVs, passwords, client secrets, bearer
and other tokens, JWTs, and every secret value the run knows (credentials, webhook secrets). `find_leaks`
is the other side of the same rules: a scanner for tests asserting that an artifact is clean.

Card numbers are found without knowing them: 13-19 digits, in groups separated by single spaces or dashes,
passing the Luhn check. A card number glued to other digits (no separator) is not recognised, because every
long number contains Luhn-valid stretches and masking them would garble ids and timestamps; card numbers the
run knows (test cards) can be added as secrets and are then masked wherever they appear.

A report is megabytes, redacted field by field and then file by file, so each rule first looks cheaply
whether it can match at all and what depends only on the secrets or a field name is worked out once
(issue 15). tests/redaction holds the rules as plain scans and checks these give exactly the same text.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = [
    "ENV_REFERENCE",
    "MASK",
    "Redactor",
    "find_leaks",
    "is_sensitive_key",
    "luhn_valid",
    "mask_pan",
    "redact_form",
    "redact_headers",
    "redact_json",
    "redact_text",
    "redact_url",
]

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would blank out ordinary text

# -- what counts as sensitive ---------------------------------------------------------------------------

# Field names are compared after lower-casing, keeping the last dotted segment (`authentication.sKey` ->
# `skey`) and dropping `_` and `-` (`client_secret` -> `clientsecret`, `X-Api-Key` -> `xapikey`).
_SENSITIVE_SUFFIXES = ("password", "passwd", "secret", "token", "securekey", "apikey", "privatekey")
_SENSITIVE_NAMES = frozenset(
    {"pwd", "cvv", "cvc", "cvv2", "cvc2", "skey", "pin", "authorization", "cookie", "setcookie", "otp"}
)
_PAN_NAMES = frozenset({"cardnumber", "pan", "primaryaccountnumber"})
_HEADERS_WITH_SCHEME = frozenset({"authorization", "proxyauthorization"})


# A report names the same few hundred fields thousands of times: each name is classified once (issue 15).
@lru_cache(maxsize=4096)
def _normalise(key: str) -> str:
    return re.sub(r"[_\-\s]", "", key.rsplit(".", 1)[-1].lower())


def is_sensitive_key(key: str) -> bool:
    """Is the value under this field/header/parameter name a credential? (`checksum`, signatures: no.)"""
    name = _normalise(key)
    return name in _SENSITIVE_NAMES or name.endswith(_SENSITIVE_SUFFIXES)


_PLAIN, _CREDENTIAL, _CARD_NUMBER = 0, 1, 2


@lru_cache(maxsize=4096)
def _key_kind(key: str) -> int:
    """What a field name in text holds: a credential, a card number, or neither (checked in that order)."""
    if is_sensitive_key(key):
        return _CREDENTIAL
    return _CARD_NUMBER if _is_pan_key(key) else _PLAIN


def _is_pan_key(key: str, parent: str | None = None) -> bool:
    name = _normalise(key)
    if name in _PAN_NAMES:
        return True
    # `card.number` as a flat form key, or `{"card": {"number": ...}}` in JSON.
    dotted = key.lower().rsplit(".", 2)
    if name == "number" and len(dotted) >= 2 and dotted[-2].endswith("card"):
        return True
    return name == "number" and parent is not None and _normalise(parent).endswith("card")


# -- card numbers ---------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    if not (digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def mask_pan(value: str) -> str:
    """`4111 1111 1111 1111` -> `411111******1111`; fewer than 13 digits shows nothing."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 13:
        return MASK
    return f"{digits[:6]}******{digits[-4:]}"


# A masked PAN in the text is a barrier: its shown digits must not join neighbours into a "new" card number
# on a second pass, which is what keeps redaction idempotent.
_MASKED_PAN = re.compile(r"(?<![0-9])[0-9]{6}\*{6}[0-9]{4}(?![0-9])")
_DIGIT_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
# Where a card number can be at all: 13 or more characters of digits, spaces and dashes, from a digit on.
# A stretch starts at the first digit of a sequence of such characters (a shorter sequence fails from every
# digit in it), so at the start of a run, and takes the whole sequence: each run of 13 or more digits lies
# whole in one stretch, and _DIGIT_RUN finds in the stretch the runs it finds in the whole text. Few parts
# of a report are stretches; scanning every run meant stopping at every digit of every id and hash.
_STRETCH = re.compile(r"[0-9][0-9 -]{12,}")


def _pan_regions(run: str) -> list[tuple[int, int]]:
    """Character ranges in a run of digit groups covered by a Luhn-valid 13-19 digit span of whole groups.

    Overlapping and adjacent candidate spans merge into one region, so whichever way a card number sits
    among neighbouring digit groups, all of it ends up inside a masked region.
    """
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    covered: list[tuple[int, int]] = []
    for first in range(len(groups)):
        digits = ""
        for last in range(first, len(groups)):
            digits += run[groups[last][0] : groups[last][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn_valid(digits):
                covered.append((groups[first][0], groups[last][1]))
    covered.sort()
    merged: list[tuple[int, int]] = []
    for start, end in covered:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _pans_in(segment: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for stretch in _STRETCH.finditer(segment):
        for run in _DIGIT_RUN.finditer(stretch.group()):
            start = stretch.start() + run.start()
            found.extend((start + a, start + b) for a, b in _pan_regions(run.group()))
    return found


def _masked_pans(text: str) -> Iterator[re.Match[str]]:
    """_MASKED_PAN.finditer(text), looked for only where six stars are (two masks never overlap)."""
    at = text.find("******", 6)
    while at >= 0:
        # The pattern's lookbehind sees the text before the position it is matched at.
        masked = _MASKED_PAN.match(text, at - 6)
        if masked:
            yield masked
        at = text.find("******", at + 1)


def _segments(text: str) -> list[tuple[int, int]]:
    """Spans of `text` between already-masked card numbers."""
    spans: list[tuple[int, int]] = []
    position = 0
    for masked in _masked_pans(text):
        spans.append((position, masked.start()))
        position = masked.end()
    spans.append((position, len(text)))
    return spans


def _find_pans(text: str) -> list[tuple[int, int]]:
    # Without a stretch of 13 digits, spaces and dashes anywhere, no segment holds a card number.
    if not _STRETCH.search(text):
        return []
    found: list[tuple[int, int]] = []
    for start, end in _segments(text):
        found.extend((start + a, start + b) for a, b in _pans_in(text[start:end]))
    return found


def _mask_pans(text: str) -> str:
    pans = _find_pans(text)
    if not pans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in pans:
        pieces += [text[position:start], mask_pan(text[start:end])]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# -- tokens and key=value credentials -------------------------------------------------------------------

# The credential may end in base64 padding; `realm="x"` after the scheme is an auth parameter, not padding.
# Case-insensitive, and `\b` before the scheme; written `[Bb](?<!\w[Bb])` so the engine skips to the b's
# (nothing else matches b ignoring case), where `\b(Bearer|Basic)` under re.IGNORECASE tried every position.
_AUTH_SCHEME = re.compile(
    r"([Bb](?<!\w[Bb])(?i:earer|asic))(?i:([ \t]+)([A-Za-z0-9\-._~+/]+(?:=+(?![A-Za-z0-9\"']))?))"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-[]"
_KEY = r"[A-Za-z][A-Za-z0-9_.\-\[\]]*"
# key=value in query strings, form bodies, curl lines and log text.
_KEY_VALUE = re.compile(rf"(?<![A-Za-z0-9_.\-\[\]])({_KEY})(=)([^&#\s;,\"'<>]+)")
# Every `=` with a value after it, found from the `=` (fast), the value captured: see _masks_a_key_value.
_EQUALS_VALUE = re.compile(r"=(?=([^&#\s;,\"'<>]+))")
# "key": "value" and "key": 123 in JSON text that is handled as text (raw bodies).
_JSON_MEMBER = re.compile(rf"(\"({_KEY})\"\s*:\s*)(\"(?:[^\"\\]|\\.)*\"|-?[0-9][0-9.eE+-]*)")
# <key>value</key> in XML bodies (txservices answers XML on request).
_XML_ELEMENT = re.compile(rf"(<({_KEY})>)([^<]+)(</\2>)")


def _auth_credentials(text: str) -> Iterator[re.Match[str]]:
    """`Bearer <token>` / `Basic <credentials>` in text. A short plain word after the scheme is prose
    ("Bearer token required", `Bearer realm=...`), not a credential, and is left alone.
    """
    for match in _AUTH_SCHEME.finditer(text):
        token = match.group(3)
        if text.startswith("=", match.end(3)):
            continue  # `Bearer realm="sandbox"`: an auth parameter of a challenge
        if len(token) >= 8 or not token.isalpha():
            yield match


def _mask_auth_credentials(text: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _auth_credentials(text):
        pieces += [text[position : match.start(3)], MASK]
        position = match.end(3)
    pieces.append(text[position:])
    return "".join(pieces)


# A shell reference to an environment variable (`$PAYCERT_GUSTAFFO_TOKEN`) stands where a curl line needs a
# secret: it names where the value is, never the value, so it counts as masked.
ENV_REFERENCE = re.compile(r"\$(?:[A-Z_][A-Z0-9_]*|\{[A-Z_][A-Z0-9_]*\})")


def _is_placeholder(value: str) -> bool:
    """Whether `value` is nothing but the mask, empty, or an environment reference: it reveals nothing."""
    # Quotes around a value, escaped ones too (`\"` when the text is serialized as JSON), are no part of it.
    bare = value.strip("\"'\\")
    return bare in (MASK, "") or bool(ENV_REFERENCE.fullmatch(bare))


def _is_masked(value: str) -> bool:
    """Whether a card number's value is already masked (or a placeholder)."""
    return _is_placeholder(value) or bool(_MASKED_PAN.search(value.strip("\"'\\")))


def _credential_value(key: str, value: str) -> str | None:
    """The replacement for `value` if `key` names a credential or a card number, else None.

    A credential's value is masked whole unless it is a placeholder already. A card number masked inside it
    does not make it safe: a random secret can hold a run of digits that passes Luhn, and the card rule,
    which runs first, masks only that run and leaves the rest of the secret (`whsec_ab411111******1111cd`).
    """
    kind = _key_kind(key)
    if kind == _PLAIN or _is_placeholder(value):
        return None
    if kind == _CREDENTIAL:
        return MASK
    return None if _is_masked(value) else mask_pan(value)


def _key_value(match: re.Match[str]) -> str | None:
    replacement = _credential_value(unquote_plus(match.group(1)), unquote_plus(match.group(3)))
    return None if replacement is None else f"{match.group(1)}={replacement}"


def _masks_a_key_value(text: str) -> bool:
    """Would _KEY_VALUE replace anything in `text`? Decided from each `=`, without its slow scan.

    A match's `=` is an `=` with a value after it; its key is the whole run of key characters before the `=`
    (the pattern's lookbehind wants the key to start a run, and key characters cannot be skipped to reach
    the `=`) and its value the whole run of value characters after it. So if no `=`'s key and value would
    be replaced, no match would be, and the substitution can be skipped (issue 15).
    """
    for equals in _EQUALS_VALUE.finditer(text):
        at = equals.start()
        reach = 64
        while True:
            before = text[max(0, at - reach) : at]
            key = before[len(before.rstrip(_KEY_CHARS)) :]
            if len(key) < len(before) or reach >= at:
                break
            reach *= 4  # the whole window is key characters: the key may begin further back
        # A key has no `%` or `+`, so unquote_plus leaves it as it is; the value is decoded only for a key
        # that names a credential or a card number.
        if (
            key
            and key[0] in _LETTERS
            and _key_kind(key) != _PLAIN
            and _credential_value(key, unquote_plus(equals.group(1))) is not None
        ):
            return True
    return False


# `"key":` and `<key>` wherever a member or an element begins: a scan for these keys misses none that the
# member or element patterns would match (a key holds no quote, `<` or `>`, so one key's match cannot
# swallow the start of another's).
_JSON_KEY = re.compile(rf"\"({_KEY})\"\s*:")
_XML_KEY = re.compile(rf"<({_KEY})>")


def _masks_a_member(
    text: str, keys: re.Pattern[str], opening: str, closing: str, pattern: re.Pattern[str]
) -> bool:
    """Would `pattern` (_JSON_MEMBER or _XML_ELEMENT) replace anything in `text`?

    Only a match whose key names a credential or a card number can be replaced, and such a match starts
    at an occurrence of its opened key, where matching the pattern gives that very match (neither pattern
    looks behind). So those occurrences alone are tried, not every member of a megabyte report (issue 15).
    """
    replace = _MEMBER_REPLACEMENTS[pattern]
    for key in set(keys.findall(text)):
        if _key_kind(key) == _PLAIN:
            continue
        needle = f"{opening}{key}{closing}"
        at = text.find(needle)
        while at >= 0:
            match = pattern.match(text, at)
            if match and replace(match) is not None:
                return True
            at = text.find(needle, at + 1)
    return False


def _json_member(match: re.Match[str]) -> str | None:
    replacement = _credential_value(match.group(2), match.group(3).strip('"'))
    return None if replacement is None else f'{match.group(1)}"{replacement}"'


def _xml_element(match: re.Match[str]) -> str | None:
    replacement = _credential_value(match.group(2), match.group(3))
    return None if replacement is None else f"{match.group(1)}{replacement}{match.group(4)}"


# Each pattern with the replacement of one match (None: leave it); find_leaks uses the very same table.
# The middle number is the group holding the field name.
_CREDENTIAL_FIELDS: tuple[tuple[re.Pattern[str], int, Callable[[re.Match[str]], str | None]], ...] = (
    (_KEY_VALUE, 1, _key_value),
    (_JSON_MEMBER, 2, _json_member),
    (_XML_ELEMENT, 2, _xml_element),
)


_MEMBER_REPLACEMENTS: dict[re.Pattern[str], Callable[[re.Match[str]], str | None]] = {
    _JSON_MEMBER: _json_member,
    _XML_ELEMENT: _xml_element,
}
# Whether a pattern's substitution could change the text, looked at before running it: each answers True
# whenever the substitution would replace something (False only when it would not), and costs a fraction
# of it on a report of megabytes in which every field name is matched and almost none replaced (issue 15).
_MAY_MATCH: dict[re.Pattern[str], Callable[[str], bool]] = {
    _KEY_VALUE: _masks_a_key_value,
    _JSON_MEMBER: lambda text: '"' in text and _masks_a_member(text, _JSON_KEY, '"', '"', _JSON_MEMBER),
    _XML_ELEMENT: lambda text: "</" in text and _masks_a_member(text, _XML_KEY, "<", ">", _XML_ELEMENT),
}


def _redact_key_values(text: str) -> str:
    for pattern, _, replace in _CREDENTIAL_FIELDS:
        if not _MAY_MATCH[pattern](text):
            continue

        def substitute(match: re.Match[str], replace: Callable[[re.Match[str]], str | None] = replace) -> str:
            return replace(match) or match.group(0)

        text = pattern.sub(substitute, text)
    return text


# -- known secrets --------------------------------------------------------------------------------------


def _variants(secret: str) -> set[str]:
    """The secret as it may appear on the wire: raw, URL-encoded, JSON-escaped; and each of those as an
    earlier redaction left it, which masked a card-shaped run of digits in it before the secret was known."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    # Only where enough of the secret is left beside the masked digits: a test card known as a secret must
    # keep its first six and last four, not become a mask of its own mask.
    forms |= {
        masked for masked in map(_mask_pans, forms) if len(_MASKED_PAN.sub("", masked)) >= MIN_SECRET_LENGTH
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


@dataclass(frozen=True)
class _Forms:
    """The forms of a set of secrets, longest first, so a secret that contains another is replaced whole."""

    forms: tuple[str, ...]
    negative_lengths: tuple[int, ...]  # -len of each form: ascending, for bisect

    def present_in(self, text: str) -> list[str]:
        # A form longer than the text cannot be in it: most strings of a report are shorter than a token.
        fitting = bisect_left(self.negative_lengths, -len(text))
        return [form for form in self.forms[fitting:] if form in text]


# The run's secrets are the same for every string of a report: their forms are worked out once per set, not
# once per string (that was most of a report's redaction time, issue 15).
@lru_cache(maxsize=32)
def _secret_forms(secrets: tuple[str, ...]) -> _Forms:
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            forms |= _variants(secret)
    ordered = tuple(sorted(forms, key=lambda form: (-len(form), form)))
    return _Forms(ordered, tuple(-len(form) for form in ordered))


def _replace_secrets(text: str, forms: _Forms) -> tuple[str, bool]:
    """The text with the forms replaced, and whether it ended with none of them left in it."""
    # Every replacement shortens the text (>= 4 chars become 3), so this ends within len(text) passes; the
    # loop catches the odd case where a replacement brings two halves of another secret together.
    for _ in range(len(text) + 1):
        present = forms.present_in(text)
        if not present:
            return text, True
        for form in present:
            replacement = mask_pan(form) if form.isdigit() and 13 <= len(form) <= 19 else MASK
            text = text.replace(form, replacement)
    return text, False


# -- public functions -----------------------------------------------------------------------------------


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Text with known secrets, card numbers, tokens, JWTs and credential parameters masked."""
    forms = _secret_forms(tuple(secrets))
    # A mask can put a boundary where there was none (`x=0Bearer t` -> `x="***"Bearer t`) and so expose
    # something a rule now matches; passes repeat until nothing changes, which makes redaction idempotent.
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(text, forms)
        if redacted == text:
            break
        text = redacted
    return text


_MAX_PASSES = 4


def _redact_once(text: str, forms: _Forms) -> str:
    # Known secrets first, so no later rule can cut one in half and leave a piece of it behind.
    text, clean = _replace_secrets(text, forms)
    masked = _mask_pans(text)
    masked = _redact_key_values(masked)
    masked = _mask_auth_credentials(masked)
    if "eyJ" in masked:  # every JWT starts so
        masked = _JWT.sub(MASK, masked)
    if clean and masked == text:
        return text  # the forms were looked for in this very text, and none is left
    return _replace_secrets(masked, forms)[0]


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a decoded JSON document with credentials and card numbers masked, strings redacted."""
    return _JsonRedaction(tuple(secrets)).value(value, parent=None)


class _JsonRedaction:
    """One redact_json call: the same string met again (a report repeats a test's evidence under every
    criterion it evidences, headers repeat in every exchange) is redacted once."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        self.texts: dict[str, str] = {}

    def text(self, text: str) -> str:
        redacted = self.texts.get(text)
        if redacted is None:
            redacted = self.texts[text] = redact_text(text, self.secrets)
        return redacted

    def value(self, value: Any, parent: str | None) -> Any:
        if isinstance(value, Mapping):
            return {key: self.member(str(key), item, parent) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item, parent) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return _redact_scalar(value)

    def member(self, key: str, value: Any, parent: str | None) -> Any:
        # Absent values and flags say something useful ("password": null) and reveal nothing.
        if value is None or value == "" or isinstance(value, bool):
            return value
        if is_sensitive_key(key) and not isinstance(value, Mapping):
            return MASK
        if _is_pan_key(key, parent) and isinstance(value, str | int):
            text = str(value)
            return text if _is_masked(text) else mask_pan(text)
        return self.value(value, key)


def _redact_scalar(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 13 <= len(str(abs(value))) <= 19:
        # A number that looks like a card number is masked the way redact_text would mask it in the text.
        return mask_pan(str(value)) if luhn_valid(str(abs(value))) else value
    return value


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """Credential headers masked (keeping the scheme word: `Bearer ***`); other values redacted as text."""
    forms = tuple(secrets)
    redacted: dict[str, str] = {}
    for name, value in headers.items():
        if not is_sensitive_key(name):
            redacted[name] = redact_text(value, forms)
        elif _normalise(name) in _HEADERS_WITH_SCHEME and " " in value.strip():
            redacted[name] = f"{value.strip().split(None, 1)[0]} {MASK}"
        else:
            redacted[name] = MASK
    return redacted


def _redact_pairs(query: str, secrets: tuple[str, ...]) -> str:
    pairs: list[str] = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        plain_key, plain_value = unquote_plus(key), unquote_plus(value)
        replacement = _credential_value(plain_key, plain_value) if sep else None
        if replacement is not None:
            pairs.append(f"{key}={replacement}")
            continue
        redacted = redact_text(plain_value, secrets)
        new_value = value if redacted == plain_value else quote_plus(redacted, safe="*")
        pairs.append(f"{redact_text(key, secrets)}{sep}{new_value}")
    return "&".join(pairs)


def redact_form(body: str, secrets: Iterable[str] = ()) -> str:
    """An `application/x-www-form-urlencoded` body with credential fields and card numbers masked."""
    forms = tuple(secrets)
    return redact_text(_redact_pairs(body, forms), forms)


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """A URL with a user-info password, credential query parameters and anything secret in it masked."""
    forms = tuple(secrets)
    # Split by hand rather than urlsplit/urlunsplit, which drop an empty `?` or `#`: the URL must come back
    # exactly as it was apart from what is masked.
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    scheme, slashes, after = rest.partition("://")
    if not slashes:
        scheme, after = "", rest
    netloc, slash, path = after.partition("/")
    if slashes and "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else netloc
    rebuilt = "".join(
        [
            scheme,
            slashes,
            netloc,
            slash,
            redact_text(path, forms),
            question_mark,
            _redact_pairs(query, forms) if query else "",
            hash_mark,
            redact_text(fragment, forms),
        ]
    )
    return redact_text(rebuilt, forms)


# -- scanning -------------------------------------------------------------------------------------------


def find_leaks(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """What in `text` should have been redacted, described without repeating the secret itself."""
    leaks: list[str] = []
    for index, secret in enumerate(secrets):
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        for form in sorted(_variants(secret)):
            at = text.find(form)
            if at >= 0:
                leaks.append(f"secret #{index + 1} ({len(secret)} chars) at offset {at}")
                break
    for start, end in _find_pans(text):
        digits = re.sub(r"\D", "", text[start:end])
        leaks.append(f"card number {mask_pan(digits)} ({len(digits)} digits) at offset {start}")
    for match in _auth_credentials(text):
        leaks.append(f"{match.group(1)} credential at offset {match.start()}")
    for match in _JWT.finditer(text):
        leaks.append(f"JWT at offset {match.start()}")
    for pattern, key_group, replace in _CREDENTIAL_FIELDS:
        for match in pattern.finditer(text):
            if replace(match) is not None:
                leaks.append(
                    f"credential field {match.group(key_group)!r} with a value at offset {match.start()}"
                )
    return leaks


class Redactor:
    """The run's redaction, carrying the secrets it knows (credentials, webhook secrets, test cards)."""

    def __init__(self, secrets: Iterable[str] = (), variables: Mapping[str, str] | None = None) -> None:
        self._secrets: list[str] = []
        self._variables: dict[str, str] = {}
        for secret in secrets:
            self.add_secret(secret)
        for value, variable in (variables or {}).items():
            self.add_secret(value, variable)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    @property
    def variables(self) -> dict[str, str]:
        """Secret value -> the environment variable a user sets it in (curl lines name it, never the value)."""
        return dict(self._variables)

    def add_secret(self, value: str | None, variable: str | None = None) -> None:
        """Remember a value to mask everywhere (values shorter than 4 characters are ignored), and the
        environment variable it can be referred to by, where it has one."""
        if value and len(value) >= MIN_SECRET_LENGTH:
            if value not in self._secrets:
                self._secrets.append(value)
            if variable and value not in self._variables:
                self._variables[value] = variable

    def text(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def json(self, value: Any) -> Any:
        return redact_json(value, self._secrets)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return redact_headers(headers, self._secrets)

    def url(self, url: str) -> str:
        return redact_url(url, self._secrets)

    def form(self, body: str) -> str:
        return redact_form(body, self._secrets)

    def leaks(self, text: str) -> list[str]:
        return find_leaks(text, self._secrets)
