"""The redaction rules as they stood before issue 15 made report writing cheap: the oracle for the fast paths.

A verbatim copy of paycert/redaction/redact.py (commit de341e3) from MASK down to redact_json, and
find_leaks: plain regex scans and per-call work, no caches, gates or pre-checks (with one correction of a
rule since, in `_credential_value`, made in both files). tests/redaction checks that
the fast redaction gives exactly what this gives, so making it fast changed no guarantee. Do not "improve"
this file; it is meant to stay the slow, obvious version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

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


def _normalise(key: str) -> str:
    return re.sub(r"[_\-\s]", "", key.rsplit(".", 1)[-1].lower())


def is_sensitive_key(key: str) -> bool:
    """Is the value under this field/header/parameter name a credential? (`checksum`, signatures: no.)"""
    name = _normalise(key)
    return name in _SENSITIVE_NAMES or name.endswith(_SENSITIVE_SUFFIXES)


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
    for run in _DIGIT_RUN.finditer(segment):
        found.extend((run.start() + a, run.start() + b) for a, b in _pan_regions(run.group()))
    return found


def _segments(text: str) -> list[tuple[int, int]]:
    """Spans of `text` between already-masked card numbers."""
    spans: list[tuple[int, int]] = []
    position = 0
    for masked in _MASKED_PAN.finditer(text):
        spans.append((position, masked.start()))
        position = masked.end()
    spans.append((position, len(text)))
    return spans


def _find_pans(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for start, end in _segments(text):
        found.extend((start + a, start + b) for a, b in _pans_in(text[start:end]))
    return found


def _mask_pans(text: str) -> str:
    pieces: list[str] = []
    position = 0
    for start, end in _find_pans(text):
        pieces += [text[position:start], mask_pan(text[start:end])]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# -- tokens and key=value credentials -------------------------------------------------------------------

# The credential may end in base64 padding; `realm="x"` after the scheme is an auth parameter, not padding.
_AUTH_SCHEME = re.compile(
    r"\b(Bearer|Basic)([ \t]+)([A-Za-z0-9\-._~+/]+(?:=+(?![A-Za-z0-9\"']))?)", re.IGNORECASE
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_KEY = r"[A-Za-z][A-Za-z0-9_.\-\[\]]*"
# key=value in query strings, form bodies, curl lines and log text.
_KEY_VALUE = re.compile(rf"(?<![A-Za-z0-9_.\-\[\]])({_KEY})(=)([^&#\s;,\"'<>]+)")
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


def _is_masked(value: str) -> bool:
    # Quotes around a value, escaped ones too (`\"` when the text is serialized as JSON), are no part of it.
    bare = value.strip("\"'\\")
    return bare in (MASK, "") or bool(_MASKED_PAN.search(bare)) or bool(ENV_REFERENCE.fullmatch(bare))


def _credential_value(key: str, value: str) -> str | None:
    """The replacement for `value` if `key` names a credential or a card number, else None."""
    # The one correction since de341e3: a credential is masked whole unless it is only the mask or an
    # environment reference. A card number masked inside it used to count as masked and left the rest of it.
    bare = value.strip("\"'\\")
    if bare in (MASK, "") or ENV_REFERENCE.fullmatch(bare):
        return None
    if is_sensitive_key(key):
        return MASK
    if _is_masked(value):
        return None
    if _is_pan_key(key):
        return mask_pan(value)
    return None


def _key_value(match: re.Match[str]) -> str | None:
    replacement = _credential_value(unquote_plus(match.group(1)), unquote_plus(match.group(3)))
    return None if replacement is None else f"{match.group(1)}={replacement}"


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


def _redact_key_values(text: str) -> str:
    for pattern, _, replace in _CREDENTIAL_FIELDS:

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


def _secret_forms(secrets: Iterable[str]) -> list[str]:
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            forms |= _variants(secret)
    # Longest first, so a secret that contains another is replaced whole.
    return sorted(forms, key=lambda form: (-len(form), form))


def _replace_secrets(text: str, forms: list[str]) -> str:
    # Every replacement shortens the text (>= 4 chars become 3), so this ends within len(text) passes; the
    # loop catches the odd case where a replacement brings two halves of another secret together.
    for _ in range(len(text) + 1):
        present = [form for form in forms if form in text]
        if not present:
            break
        for form in present:
            replacement = mask_pan(form) if form.isdigit() and 13 <= len(form) <= 19 else MASK
            text = text.replace(form, replacement)
    return text


# -- public functions -----------------------------------------------------------------------------------


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Text with known secrets, card numbers, tokens, JWTs and credential parameters masked."""
    forms = _secret_forms(secrets)
    # A mask can put a boundary where there was none (`x=0Bearer t` -> `x="***"Bearer t`) and so expose
    # something a rule now matches; passes repeat until nothing changes, which makes redaction idempotent.
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(text, forms)
        if redacted == text:
            break
        text = redacted
    return text


_MAX_PASSES = 4


def _redact_once(text: str, forms: list[str]) -> str:
    # Known secrets first, so no later rule can cut one in half and leave a piece of it behind.
    text = _replace_secrets(text, forms)
    text = _mask_pans(text)
    text = _redact_key_values(text)
    text = _mask_auth_credentials(text)
    text = _JWT.sub(MASK, text)
    return _replace_secrets(text, forms)


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a decoded JSON document with credentials and card numbers masked, strings redacted."""
    forms = tuple(secrets)
    return _redact_value(value, forms, parent=None)


def _redact_value(value: Any, secrets: tuple[str, ...], parent: str | None) -> Any:
    if isinstance(value, Mapping):
        return {key: _redact_member(str(key), item, secrets, parent) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item, secrets, parent) for item in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, int) and not isinstance(value, bool) and 13 <= len(str(abs(value))) <= 19:
        # A number that looks like a card number is masked the way redact_text would mask it in the text.
        return mask_pan(str(value)) if luhn_valid(str(abs(value))) else value
    return value


def _redact_member(key: str, value: Any, secrets: tuple[str, ...], parent: str | None) -> Any:
    # Absent values and flags say something useful ("password": null) and reveal nothing.
    if value is None or value == "" or isinstance(value, bool):
        return value
    if is_sensitive_key(key) and not isinstance(value, Mapping):
        return MASK
    if _is_pan_key(key, parent) and isinstance(value, str | int):
        text = str(value)
        return text if _is_masked(text) else mask_pan(text)
    return _redact_value(value, secrets, key)


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
