"""Webhook signature schemes: one interface, one implementation per scheme a gateway may use.

The sandbox signs with these and the suites verify with these, so a gateway profile only names its scheme
(`signature: stripe`). Every comparison is constant-time. `verify` never raises on a bad signature: it returns
a `Verification` whose `reason` says why, so a report can show it; it raises `ValueError` only when the
*secret* itself is unusable (a configuration error, not a finding about the sender).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "SCHEMES",
    "WEAKNESS",
    "WEAKNESSES",
    "SignatureScheme",
    "Signed",
    "UnknownSchemeError",
    "Verification",
    "get_scheme",
]

# Shown in the readiness report as a finding against a gateway that uses the scheme.
WEAKNESS = (
    "X-Signature is SHA-256(secret || body), not an HMAC: the construction is open to length extension, so "
    "anyone holding one signed body can forge a valid signature for that body with bytes appended"
)
MD5_CHECKSUM_WEAKNESS = (
    "the callback checksum is MD5(fields || secureKey), not an HMAC: MD5 is broken, and only paymentId, "
    "merchantTransactionId, amount and transactionStatus are covered, every other body field is unsigned"
)
WEAKNESSES: dict[str, str] = {
    "sha256-secret-body": WEAKNESS,
    "md5-callback-checksum": MD5_CHECKSUM_WEAKNESS,
}

# Both Stripe and Standard Webhooks allow five minutes of clock skew either way.
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Signed:
    """What a sender puts on the wire: the (possibly rewritten) body and the headers to add."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str  # why not, e.g. "signature mismatch"; "valid" when ok


class SignatureScheme(Protocol):
    name: str
    # What the signature covers, so a sender knows what it may change without breaking it: the header that
    # carries it (None when it travels in the body), the body fields it covers (None: the whole raw body),
    # and whether a timestamp is signed with it (only then can a receiver tell a replay from a retry).
    signature_header: str | None
    signed_fields: tuple[str, ...] | None
    timestamped: bool

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed: ...

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification: ...


class UnknownSchemeError(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown webhook signature scheme {self.name!r}; known schemes: {', '.join(SCHEMES)}"


VALID = Verification(True, "valid")
MISMATCH = Verification(False, "signature mismatch")
HEADER_MISSING = Verification(False, "signature header missing")
STALE = Verification(False, "timestamp outside tolerance")


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _same(expected: str, given: str) -> bool:
    # compare_digest on str only accepts ASCII; bytes accept anything a sender may put in a header.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


class Sha256SecretBody:
    """Source document 000 (gustaffo): `X-Signature: hex(SHA-256(secret || raw body))`."""

    name = "sha256-secret-body"
    header = "X-Signature"
    signature_header: str | None = header
    signed_fields: tuple[str, ...] | None = None
    timestamped = False
    finding: str | None = WEAKNESS

    @staticmethod
    def _digest(secret: str, body: bytes) -> str:
        return hashlib.sha256(secret.encode() + body).hexdigest()

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed:
        return Signed(body, {self.header: self._digest(secret, body)})

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification:
        given = _lower_keys(headers).get(self.header.lower())
        if given is None or not given.strip():
            return HEADER_MISSING
        return VALID if _same(self._digest(secret, body), given.strip().lower()) else MISMATCH


class HmacSha256Hex:
    """`X-Signature: hex(HMAC-SHA256(secret, raw body))`."""

    name = "hmac-sha256-hex"
    header = "X-Signature"
    signature_header: str | None = header
    signed_fields: tuple[str, ...] | None = None
    timestamped = False
    finding: str | None = None

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed:
        return Signed(body, {self.header: _hmac_sha256(secret.encode(), body).hex()})

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification:
        given = _lower_keys(headers).get(self.header.lower())
        if given is None or not given.strip():
            return HEADER_MISSING
        expected = _hmac_sha256(secret.encode(), body).hex()
        return VALID if _same(expected, given.strip().lower()) else MISMATCH


class Md5CallbackChecksum:
    """txservices callbacks: the JSON body carries `checksum` = md5 of
    `paymentId|merchantTransactionId|amount|transactionStatus|secureKey` (the secret is the secureKey).
    """

    name = "md5-callback-checksum"
    fields = ("paymentId", "merchantTransactionId", "amount", "transactionStatus")
    signature_header: str | None = None  # the body's own `checksum` field
    signed_fields: tuple[str, ...] | None = fields
    timestamped = False
    finding: str | None = MD5_CHECKSUM_WEAKNESS

    @staticmethod
    def _text(value: Any) -> str:
        # Amounts travel as strings ("10.00"); a sender that sends numbers gets their JSON spelling.
        if isinstance(value, str):
            return value
        return json.dumps(value)

    def _checksum(self, secret: str, document: Mapping[str, Any]) -> str:
        parts = [self._text(document[field]) for field in self.fields]
        return hashlib.md5("|".join([*parts, secret]).encode()).hexdigest()

    @staticmethod
    def _object(body: bytes) -> dict[str, Any] | None:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        return document if isinstance(document, dict) else None

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed:
        document = self._object(body)
        if document is None:
            raise ValueError("md5-callback-checksum signs a JSON object body")
        missing = [field for field in self.fields if field not in document]
        if missing:
            raise ValueError(f"md5-callback-checksum needs body fields {', '.join(missing)}")
        # Assigning keeps an existing key where it is and appends a new one, so key order is preserved.
        document["checksum"] = self._checksum(secret, document)
        return Signed(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode(), {})

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification:
        document = self._object(body)
        if document is None:
            return Verification(False, "body is not a JSON object")
        given = document.get("checksum")
        if not isinstance(given, str) or not given:
            return Verification(False, "checksum missing")
        missing = [field for field in self.fields if field not in document]
        if missing:
            return Verification(False, f"checksum fields missing: {', '.join(missing)}")
        return VALID if _same(self._checksum(secret, document), given.lower()) else MISMATCH


class StripeSignature:
    """`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=...]`."""

    name = "stripe"
    header = "Stripe-Signature"
    signature_header: str | None = header
    signed_fields: tuple[str, ...] | None = None
    timestamped = True
    finding: str | None = None

    @staticmethod
    def _signature(secret: str, timestamp: int, body: bytes) -> str:
        return _hmac_sha256(secret.encode(), f"{timestamp}.".encode() + body).hex()

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed:
        t = _now(timestamp)
        return Signed(body, {self.header: f"t={t},v1={self._signature(secret, t, body)}"})

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification:
        value = _lower_keys(headers).get(self.header.lower())
        if value is None or not value.strip():
            return HEADER_MISSING
        timestamps: list[str] = []
        candidates: list[str] = []
        for item in value.split(","):
            key, _, part = item.strip().partition("=")
            if key == "t":
                timestamps.append(part)
            elif key == "v1":
                candidates.append(part)
        if len(timestamps) != 1 or not timestamps[0].isdigit() or not candidates:
            return Verification(False, "signature header malformed")
        t = int(timestamps[0])
        expected = self._signature(secret, t, body)
        # Check every candidate (no early exit) so timing does not tell which one matched.
        matched = False
        for candidate in candidates:
            matched |= _same(expected, candidate)
        if not matched:
            return MISMATCH
        return VALID if abs(_now(now) - t) <= TOLERANCE_SECONDS else STALE


class StandardWebhooks:
    """Standard Webhooks (Svix): `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`,
    HMAC-SHA256 with the key bytes of `whsec_<base64>` over "<id>.<timestamp>.<body>".
    """

    name = "standard-webhooks"
    prefix = "whsec_"
    signature_header: str | None = "webhook-signature"
    signed_fields: tuple[str, ...] | None = None
    timestamped = True
    finding: str | None = None

    def _key(self, secret: str) -> bytes:
        encoded = secret.removeprefix(self.prefix)
        try:
            return base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise ValueError("a Standard Webhooks secret is 'whsec_' followed by base64 key bytes") from exc

    def _signature(self, secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
        digest = _hmac_sha256(self._key(secret), f"{msg_id}.{timestamp}.".encode() + body)
        return base64.b64encode(digest).decode()

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed:
        ident = msg_id or f"msg_{secrets.token_urlsafe(18)}"
        t = str(_now(timestamp))
        headers = {
            "webhook-id": ident,
            "webhook-timestamp": t,
            "webhook-signature": f"v1,{self._signature(secret, ident, t, body)}",
        }
        return Signed(body, headers)

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification:
        lowered = _lower_keys(headers)
        ident = lowered.get("webhook-id")
        timestamp = lowered.get("webhook-timestamp")
        value = lowered.get("webhook-signature")
        if not ident or not timestamp or not value:
            return HEADER_MISSING
        if not timestamp.strip().isdigit():
            return Verification(False, "signature header malformed")
        expected = self._signature(secret, ident, timestamp.strip(), body)
        matched = False
        for item in value.split():
            version, _, candidate = item.partition(",")
            if version == "v1":
                matched |= _same(expected, candidate)
        if not matched:
            return MISMATCH
        return VALID if abs(_now(now) - int(timestamp)) <= TOLERANCE_SECONDS else STALE


class Unsigned:
    """A gateway that does not sign its webhooks (paylican): nothing to add, nothing to check."""

    name = "none"
    signature_header: str | None = None
    signed_fields: tuple[str, ...] | None = ()  # nothing is signed: every field is the sender's to change
    timestamped = False
    finding: str | None = None

    def sign(
        self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
    ) -> Signed:
        return Signed(body, {})

    def verify(
        self, secret: str, body: bytes, headers: Mapping[str, str], *, now: int | None = None
    ) -> Verification:
        return Verification(False, "gateway does not sign webhooks")


_REGISTRY: dict[str, SignatureScheme] = {
    scheme.name: scheme
    for scheme in (
        Sha256SecretBody(),
        Md5CallbackChecksum(),
        HmacSha256Hex(),
        StripeSignature(),
        StandardWebhooks(),
        Unsigned(),
    )
}
SCHEMES: tuple[str, ...] = tuple(_REGISTRY)


def get_scheme(name: str) -> SignatureScheme:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownSchemeError(name) from None
