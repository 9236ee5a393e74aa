"""Kestrel Pay: a Stripe-like test gateway written from public API habits, not from paycert's sandbox.

- OAuth2 client credentials (RFC 6749 section 4.4): `POST /v1/oauth/token` with the client id and secret in
  the form body or in HTTP Basic; bearer tokens that expire; a token only sees its own client's objects.
- Checkout sessions in integer minor units: `POST /v1/checkout/sessions` -> `{id, url, status, ...}`; the
  shopper pays on the hosted page at `url` (a card form, and a separate form holding the cancel button),
  with a 3-D Secure challenge for one test card, and comes back to `success_url` or `cancel_url` with
  `?session_id=...&redirect_status=...`.
- No refunded status: `POST /v1/refunds` books a refund object, and the session shows it only in
  `amount_refunded` (its status stays `complete`).
- Standard Webhooks to one endpoint per client (set at start, by `set_webhook_url`, or with
  `PUT /v1/webhook_endpoint`), the event id only in the `webhook-id` header, refund events about the refund.
- No provider-state or test-clock endpoint of any kind.

`openapi.yaml` beside this file is its contract and README.md its documentation. Every seeded fault in
`Faults` is a constructor flag of `KestrelServer`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import socket
import string
import threading
import time
from base64 import b64decode
from binascii import Error as BinasciiError
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse as _JSONResponse
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tests.fifth_gateway import pages
from tests.fifth_gateway.sender import DEFAULT_ATTEMPT_TIMEOUT_SECONDS, DEFAULT_SCHEDULE_SECONDS, Sender

# The merchant's sandbox credentials (the names a profile would give them), and a second merchant's.
CLIENT_ID = "kestrel_client_paycert"
CLIENT_SECRET = "ksk_test_0M_uN-RByNoERI9cE3Xus7RpGJ_EznIX"
WEBHOOK_SECRET = "whsec_cSV18fQewfd/Hgo6aZOfv/YoJDRlvfOG"
OTHER_CLIENT_ID = "kestrel_client_other_shop"
OTHER_CLIENT_SECRET = "ksk_test_PTdUc2hmLyPiYhhJKafOezVA4uRT0Efh"
OTHER_WEBHOOK_SECRET = "whsec_5x/xVd7+EwYKO2MRWo3vazoOFEYYcUfo"
# The `wrong_signature_secret` fault signs with this one: well-formed, so only a signature check catches it.
WRONG_WEBHOOK_SECRET = "whsec_CZrLXmMJ23nc+dPNmvgsBuq10N8ffKaM"

TOKEN_TTL_SECONDS = 3600
SESSION_TTL_SECONDS = 24 * 3600
MAX_AMOUNT = 99_999_999  # minor units: 999,999.99 in a two-decimal currency
THREE_DS_PASSWORD = "password"

# Test cards, Stripe's numbers: any other Luhn-valid number with a future expiry is paid.
SUCCESS_CARD = "4242424242424242"
CHALLENGE_CARD = "4000002760003184"  # 3-D Secure challenge; password THREE_DS_PASSWORD
DECLINES: dict[str, tuple[str, str]] = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "Your card's security code is incorrect."),
}
EXPIRED_CARD_ERROR = ("expired_card", "Your card has expired.")

SESSION_EVENTS = {
    "complete": "checkout.session.completed",
    "failed": "checkout.session.failed",
    "expired": "checkout.session.expired",
    "canceled": "checkout.session.canceled",
}
REFUND_EVENT = "refund.succeeded"
EVENT_TYPES = (*SESSION_EVENTS.values(), REFUND_EVENT)

# One pattern each for the code and openapi.yaml, so "valid by the spec" and "accepted" are the same thing.
# They are prefixes on purpose, without `$` and `\s`: those mean different things to Python's `re` (a `$`
# before a final newline, \x1c-\x1f as spaces), ECMA-262 and Rust, and a spec must mean one thing to all of
# them. What follows the host is kept as sent and percent-encoded where it goes into a Location header.
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+"
LOOPBACK_URL_PATTERN = r"^https?://(127\.|localhost|\[::1\])"  # and sender.is_loopback checks every delivery
CURRENCY_PATTERN = r"^[A-Za-z][A-Za-z][A-Za-z]"  # with length 3: exactly three letters
MAX_URL_LENGTH = 2048
_ID_ALPHABET = string.ascii_letters + string.digits


class JSONResponse(_JSONResponse):
    """JSON in ASCII: a string the client sent with a lone surrogate escape (valid JSON) is answered, not a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


@dataclass(frozen=True)
class Faults:
    """The seeded faults: each one is a bug a certification must catch."""

    wrong_secret_accepted: bool = False  # a known client id with any secret gets a token
    wrong_client_id_accepted: bool = (
        False  # any client id with a known client's secret gets that client's token
    )
    double_refund_accepted: bool = False  # a fully refunded session can be refunded (its whole amount) again
    over_refund_accepted: bool = False  # a refund larger than what is left is booked
    cancel_ends_failed: bool = False  # the cancel button ends the session `failed`, not `canceled`
    decline_ends_complete: bool = False  # the decline cards are paid
    three_ds_skipped: bool = False  # the 3-D Secure card is paid without a challenge
    unsigned_webhooks: bool = False  # no `webhook-signature` header
    wrong_signature_secret: bool = False  # signed with WRONG_WEBHOOK_SECRET
    no_retry: bool = False  # a refused webhook is never tried again
    retries_stop_early: bool = False  # gives up after about half the attempts (3 of 5)
    zero_amount_accepted: bool = False  # a session of amount 0 is created
    status_without_token: bool = False  # GET /v1/checkout/sessions/{id} answers without Authorization
    renamed_response_field: bool = False  # sessions in API answers say `total`, not `amount_total`

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def active(self) -> tuple[str, ...]:
        return tuple(name for name in self.names() if getattr(self, name))


class ApiError(Exception):
    """An API refusal, answered as `{"error": {"type", "code", "message", "param"}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        kind: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param, self.kind = status, code, message, param, kind
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"type": self.kind, "code": self.code, "message": self.message, "param": self.param}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class OAuthError(Exception):
    """A token endpoint refusal, answered the RFC 6749 way: `{"error", "error_description"}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> JSONResponse:
        headers = {"cache-control": "no-store", "pragma": "no-cache"}
        if self.status == 401:
            headers["www-authenticate"] = 'Basic realm="kestrel"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


@dataclass
class Client:
    client_id: str
    secret: str
    webhook_secret: str
    webhook_url: str | None = None
    enabled_events: tuple[str, ...] = ("*",)

    def endpoint_json(self) -> dict[str, Any]:
        return {
            "object": "webhook_endpoint",
            "url": self.webhook_url,
            "enabled_events": list(self.enabled_events),
            "status": "enabled",
        }


@dataclass
class Session:
    id: str
    client_id: str
    amount_total: int
    currency: str
    success_url: str
    cancel_url: str
    client_reference_id: str | None
    metadata: dict[str, str]
    created: float
    expires_at: float
    csrf_token: str
    status: str = "open"
    payment_status: str = "unpaid"
    amount_refunded: int = 0
    last_payment_error: dict[str, str] | None = None
    authentication_id: str | None = None

    def to_json(self, base_url: str, *, renamed: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "checkout.session",
            "url": f"{base_url}/c/pay/{self.id}" if self.status == "open" else None,
            "status": self.status,
            "payment_status": self.payment_status,
            "amount_total": self.amount_total,
            "amount_refunded": self.amount_refunded,
            "currency": self.currency,
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "metadata": dict(self.metadata),
            "created": int(self.created),
            "expires_at": int(self.expires_at),
            "last_payment_error": dict(self.last_payment_error) if self.last_payment_error else None,
            "livemode": False,
        }
        if renamed:  # the `renamed_response_field` fault
            body = {("total" if k == "amount_total" else k): v for k, v in body.items()}
        return body


@dataclass
class Refund:
    id: str
    client_id: str
    session: str
    amount: int
    currency: str
    reason: str | None
    created: float
    status: str = "succeeded"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "refund",
            "session": self.session,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "reason": self.reason,
            "created": int(self.created),
        }


@dataclass
class _Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class _Token:
    client_id: str
    expires_at: float


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _as_int(value: Any) -> int | None:
    """A JSON integer as JSON Schema counts them (1050 and 1050.0, not 10.5, "1050" or true), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


_LOCATION_SAFE = string.ascii_letters + string.digits + "!#$%&'()*+,-./:;=?@[]_~"


def _with_query(url: str, extra: dict[str, str]) -> str:
    """`url` with `extra` added to its query (its own parameters kept), safe to send as a Location header."""
    safe = quote(url, safe=_LOCATION_SAFE)  # spaces, controls and non-ASCII percent-encoded
    try:
        parts = urlsplit(safe)
    except ValueError:  # e.g. an unclosed "[": append by hand
        return f"{safe}{'&' if '?' in safe else '?'}{urlencode(extra)}"
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *extra.items()], safe="%")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _parse_expiry(text: str) -> tuple[int, int] | None:
    """(month, four-digit year) of `MM/YY`, `MM / YY`, `MM/YYYY` or `MMYY`; None when it is none of them."""
    compact = text.replace(" ", "")
    found = re.fullmatch(r"(\d{2})/?(\d{2}|\d{4})", compact)
    if not found:
        return None
    month, year = int(found[1]), int(found[2])
    if not 1 <= month <= 12:
        return None
    return month, (2000 + year if year < 100 else year)


def _check_keys(body: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(
            400, "parameter_unknown", f"Received unknown parameter: {unknown[0]}", param=unknown[0]
        )


def _matches(pattern: str, value: Any) -> bool:
    """JSON Schema's `pattern`, exactly: an unanchored search."""
    return isinstance(value, str) and re.search(pattern, value) is not None


def _check_url(body: dict[str, Any], name: str, pattern: str = URL_PATTERN, *, why: str = "") -> str:
    if name not in body:
        raise ApiError(400, "parameter_missing", f"Missing required param: {name}.", param=name)
    value = body[name]
    if not (isinstance(value, str) and len(value) <= MAX_URL_LENGTH and _matches(pattern, value)):
        raise ApiError(
            400, "url_invalid", f"Invalid URL: {name} must be an absolute http(s) URL{why}.", param=name
        )
    return value


def _check_metadata(body: dict[str, Any]) -> dict[str, str]:
    if "metadata" not in body:
        return {}
    value = body["metadata"]
    ok = (
        isinstance(value, dict)
        and len(value) <= 50
        and all(isinstance(k, str) and 1 <= len(k) <= 40 for k in value)
        and all(isinstance(v, str) and len(v) <= 500 for v in value.values())
    )
    if not ok:
        raise ApiError(
            400,
            "parameter_invalid",
            "metadata must be an object of at most 50 string values (keys up to 40, values up to 500 characters).",
            param="metadata",
        )
    return dict(value)


class Kestrel:
    """The gateway's state and rules; the FastAPI routes of `create_app` only translate HTTP to them."""

    def __init__(
        self,
        faults: Faults,
        *,
        retry_schedule: Sequence[float] = DEFAULT_SCHEDULE_SECONDS,
        webhook_timeout: float = DEFAULT_ATTEMPT_TIMEOUT_SECONDS,
        token_ttl_seconds: float = TOKEN_TTL_SECONDS,
        session_ttl_seconds: float = SESSION_TTL_SECONDS,
    ) -> None:
        self.faults = faults
        self.base_url = "http://127.0.0.1"  # set by KestrelServer once it knows its port
        self.token_ttl_seconds = token_ttl_seconds
        self.session_ttl_seconds = session_ttl_seconds
        full = len(retry_schedule) + 1
        attempts = (
            1 if faults.no_retry else max(2, math.ceil(full / 2)) if faults.retries_stop_early else full
        )
        self.sender = Sender(
            schedule=retry_schedule,
            max_attempts=attempts,
            attempt_timeout=webhook_timeout,
            unsigned=faults.unsigned_webhooks,
            signing_secret=WRONG_WEBHOOK_SECRET if faults.wrong_signature_secret else None,
        )
        self.clients = {
            CLIENT_ID: Client(CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET),
            OTHER_CLIENT_ID: Client(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET, OTHER_WEBHOOK_SECRET),
        }
        self.tokens: dict[str, _Token] = {}
        self.sessions: dict[str, Session] = {}
        self.authentications: dict[str, str] = {}  # 3-D Secure authentication id -> session id
        self.refunds: dict[str, Refund] = {}
        self.idempotent: dict[tuple[str, str, str], _Stored] = {}
        self.lock = threading.RLock()

    # --- OAuth2 client credentials -------------------------------------------------------------------

    def issue_token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        if grant != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant} is not supported")
        if authorization and authorization[:6].lower() == "basic ":
            if "client_secret" in form:
                raise OAuthError(
                    400,
                    "invalid_request",
                    "use one client authentication method: HTTP Basic or the form body",
                )
            try:
                decoded = b64decode(authorization[6:].strip(), validate=True).decode()
            except (BinasciiError, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", "malformed HTTP Basic credentials") from None
            raw_id, sep, raw_secret = decoded.partition(":")
            if not sep:
                raise OAuthError(401, "invalid_client", "malformed HTTP Basic credentials")
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise OAuthError(401, "invalid_client", "client authentication is required")
        client = self._client_for(client_id, secret)
        if client is None:
            raise OAuthError(401, "invalid_client", "unknown client or wrong client secret")
        token = "kat_" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = _Token(client.client_id, time.time() + self.token_ttl_seconds)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": max(1, math.ceil(self.token_ttl_seconds)),
        }

    def _client_for(self, client_id: str, secret: str) -> Client | None:
        known = self.clients.get(client_id)
        if known is not None:
            if secrets.compare_digest(secret.encode(), known.secret.encode()):
                return known
            return known if self.faults.wrong_secret_accepted else None
        if self.faults.wrong_client_id_accepted:
            return next(
                (
                    c
                    for c in self.clients.values()
                    if secrets.compare_digest(secret.encode(), c.secret.encode())
                ),
                None,
            )
        return None

    def client_of(self, authorization: str | None) -> Client:
        """The client whose bearer token `authorization` carries; ApiError 401 otherwise."""
        challenge = 'Bearer realm="kestrel"'
        if not authorization:
            raise ApiError(
                401,
                "missing_token",
                "No access token: send Authorization: Bearer <access_token> from POST /v1/oauth/token.",
                kind="authentication_error",
                headers={"www-authenticate": challenge},
            )
        scheme, _, value = authorization.partition(" ")
        with self.lock:
            token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        invalid = {"www-authenticate": f'{challenge}, error="invalid_token"'}
        if token is None:
            raise ApiError(
                401, "invalid_token", "Invalid access token.", kind="authentication_error", headers=invalid
            )
        if token.expires_at <= time.time():
            raise ApiError(
                401,
                "token_expired",
                "The access token has expired: get a new one from POST /v1/oauth/token.",
                kind="authentication_error",
                headers=invalid,
            )
        return self.clients[token.client_id]

    # --- Idempotency ---------------------------------------------------------------------------------

    def replay(self, client: Client, what: str, key: str | None, body: Any) -> tuple[str, _Stored | None]:
        """The fingerprint of this request, and the stored answer of an earlier one with the same key."""
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key is None:
            return fingerprint, None
        if not 1 <= len(key) <= 255:
            raise ApiError(400, "idempotency_key_invalid", "Idempotency-Key must be 1 to 255 characters.")
        stored = self.idempotent.get((client.client_id, what, key))
        if stored is not None and stored.fingerprint != fingerprint:
            raise ApiError(
                409,
                "idempotency_key_reused",
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                kind="idempotency_error",
            )
        return fingerprint, stored

    def remember(self, client: Client, what: str, key: str | None, fingerprint: str, answer: _Stored) -> None:
        if key is not None:
            self.idempotent[(client.client_id, what, key)] = _Stored(fingerprint, answer.status, answer.body)

    # --- Checkout sessions ---------------------------------------------------------------------------

    def create_session(self, client: Client, body: Any, key: str | None) -> tuple[_Stored, bool]:
        """The answer to `POST /v1/checkout/sessions`, and whether it is a replay of an earlier one."""
        if not isinstance(body, dict):
            raise ApiError(400, "body_invalid", "The request body must be a JSON object.")
        with self.lock:  # check, create and remember under one lock: one key can never create twice
            fingerprint, stored = self.replay(client, "session", key, body)
            if stored is not None:
                return stored, True
            session = self._new_session(client, body)
            self.sessions[session.id] = session
            answer = _Stored(fingerprint, 200, self.session_json(session))
            self.remember(client, "session", key, fingerprint, answer)
            return answer, False

    def _new_session(self, client: Client, body: dict[str, Any]) -> Session:
        _check_keys(
            body, ("amount", "currency", "success_url", "cancel_url", "client_reference_id", "metadata")
        )
        if "amount" not in body:
            raise ApiError(400, "parameter_missing", "Missing required param: amount.", param="amount")
        amount = _as_int(body["amount"])
        if amount is None:
            raise ApiError(
                400,
                "parameter_invalid_integer",
                "amount must be an integer number of the currency's minor units (e.g. 1050 for 10.50 EUR).",
                param="amount",
            )
        if amount < 1 and not (amount == 0 and self.faults.zero_amount_accepted):
            raise ApiError(
                400,
                "amount_too_small",
                f"amount must be at least 1 (minor units); {amount} cannot be paid.",
                param="amount",
            )
        if amount > MAX_AMOUNT:
            raise ApiError(
                400, "amount_too_large", f"amount must be at most {MAX_AMOUNT} (minor units).", param="amount"
            )
        if "currency" not in body:
            raise ApiError(400, "parameter_missing", "Missing required param: currency.", param="currency")
        currency = body["currency"]
        if not (_matches(CURRENCY_PATTERN, currency) and len(currency) == 3):
            raise ApiError(
                400, "invalid_currency", "currency must be a three-letter ISO 4217 code.", param="currency"
            )
        success_url = _check_url(body, "success_url")
        cancel_url = _check_url(body, "cancel_url")
        reference = body.get("client_reference_id")
        if "client_reference_id" in body and not (isinstance(reference, str) and 1 <= len(reference) <= 200):
            raise ApiError(
                400,
                "parameter_invalid_string",
                "client_reference_id must be a string of 1 to 200 characters.",
                param="client_reference_id",
            )
        now = time.time()
        return Session(
            id=_new_id("cs_test_"),
            client_id=client.client_id,
            amount_total=amount,
            currency=currency.lower(),
            success_url=success_url,
            cancel_url=cancel_url,
            client_reference_id=reference,
            metadata=_check_metadata(body),
            created=now,
            expires_at=now + self.session_ttl_seconds,
            csrf_token=secrets.token_urlsafe(18),
        )

    def session_json(self, session: Session) -> dict[str, Any]:
        """A session as the API answers it (the `renamed_response_field` fault applies here only)."""
        return session.to_json(self.base_url, renamed=self.faults.renamed_response_field)

    def session_of(self, client: Client | None, session_id: str) -> Session:
        """The session, if `client` may see it (None: anyone may, the `status_without_token` fault)."""
        self.expire_due()
        with self.lock:
            session = self.sessions.get(session_id)
        if session is None or (client is not None and session.client_id != client.client_id):
            # Another client's session is answered like one that does not exist: its id reveals nothing.
            raise ApiError(
                404, "resource_missing", f"No such checkout session: '{session_id}'", param="session_id"
            )
        return session

    def expire_session(self, client: Client, session_id: str) -> Session:
        session = self.session_of(client, session_id)
        if not self.finish(session, "expired"):
            raise ApiError(
                409,
                "session_not_open",
                f"Only open checkout sessions can be expired; this one is {session.status}.",
            )
        return session

    def finish(self, session: Session, status: str, error: tuple[str, str] | None = None) -> bool:
        """Move an open session to `status` and tell its client; False when it was no longer open (a second
        submission of the page, or expiry racing the shopper): a session ends once."""
        with self.lock:
            if session.status != "open":
                return False
            session.status = status
            session.authentication_id = None
            if status == "complete":
                session.payment_status = "paid"
            if error is not None:
                session.last_payment_error = {"code": error[0], "message": error[1]}
            event = session.to_json(self.base_url)
        self.emit(session.client_id, SESSION_EVENTS[status], event)
        return True

    def expire_due(self) -> None:
        now = time.time()
        with self.lock:
            due = [s for s in self.sessions.values() if s.status == "open" and s.expires_at <= now]
        for session in due:
            self.finish(session, "expired")

    # --- Refunds -------------------------------------------------------------------------------------

    def create_refund(self, client: Client, body: Any, key: str | None) -> tuple[_Stored, bool]:
        if not isinstance(body, dict):
            raise ApiError(400, "body_invalid", "The request body must be a JSON object.")
        with self.lock:  # check and book under one lock: two concurrent refunds cannot both pass
            fingerprint, stored = self.replay(client, "refund", key, body)
            if stored is not None:
                return stored, True
            refund = self._book_refund(client, body)
            answer = _Stored(fingerprint, 200, refund.to_json())
            self.remember(client, "refund", key, fingerprint, answer)
        self.emit(client.client_id, REFUND_EVENT, refund.to_json())
        return answer, False

    def _book_refund(self, client: Client, body: dict[str, Any]) -> Refund:
        _check_keys(body, ("session", "amount", "reason"))
        if "session" not in body:
            raise ApiError(400, "parameter_missing", "Missing required param: session.", param="session")
        session_id = body["session"]
        if not isinstance(session_id, str):
            raise ApiError(400, "parameter_invalid_string", "session must be a string.", param="session")
        session = self.session_of(client, session_id)
        amount = _as_int(body.get("amount"))
        if "amount" in body and not (amount is not None and amount >= 1):
            raise ApiError(
                400,
                "parameter_invalid_integer",
                "amount must be a positive integer number of minor units.",
                param="amount",
            )
        reason = body.get("reason")
        if "reason" in body and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
            raise ApiError(
                400,
                "parameter_invalid",
                "reason must be one of duplicate, fraudulent, requested_by_customer.",
                param="reason",
            )
        if session.payment_status != "paid":
            raise ApiError(
                409,
                "session_not_paid",
                f"Checkout session {session.id} is {session.status} and was not paid.",
            )
        left = session.amount_total - session.amount_refunded
        if left <= 0:
            if not self.faults.double_refund_accepted:
                raise ApiError(
                    409,
                    "session_already_refunded",
                    f"Checkout session {session.id} has already been refunded in full.",
                )
            left = session.amount_total  # the fault: a refunded session counts as not refunded at all
        if amount is None:
            amount = left
        if amount > left and not self.faults.over_refund_accepted:
            raise ApiError(
                400,
                "refund_exceeds_remaining",
                f"Refund amount ({amount}) is greater than the unrefunded amount of the session ({left}).",
                param="amount",
            )
        session.amount_refunded += amount
        refund = Refund(
            id=_new_id("re_"),
            client_id=client.client_id,
            session=session.id,
            amount=amount,
            currency=session.currency,
            reason=reason,
            created=time.time(),
        )
        self.refunds[refund.id] = refund
        return refund

    def refund_of(self, client: Client, refund_id: str) -> Refund:
        with self.lock:
            refund = self.refunds.get(refund_id)
        if refund is None or refund.client_id != client.client_id:
            raise ApiError(404, "resource_missing", f"No such refund: '{refund_id}'", param="refund_id")
        return refund

    # --- Webhooks ------------------------------------------------------------------------------------

    def configure_endpoint(self, client: Client, body: Any) -> Client:
        if not isinstance(body, dict):
            raise ApiError(400, "body_invalid", "The request body must be a JSON object.")
        _check_keys(body, ("url", "enabled_events"))
        url = _check_url(
            body, "url", LOOPBACK_URL_PATTERN, why=" on a loopback host (127.0.0.1, localhost, [::1])"
        )
        events = body.get("enabled_events", ["*"])
        allowed = ("*", *EVENT_TYPES)
        if not (isinstance(events, list) and events and all(e in allowed for e in events)):
            raise ApiError(
                400,
                "parameter_invalid",
                f"enabled_events must be a non-empty list of: {', '.join(allowed)}.",
                param="enabled_events",
            )
        self.set_webhook_url(client.client_id, url, events)
        return client

    def set_webhook_url(self, client_id: str, url: str | None, events: Sequence[str] = ("*",)) -> None:
        with self.lock:
            client = self.clients[client_id]
            client.webhook_url = url
            client.enabled_events = tuple(dict.fromkeys(events))

    def emit(self, client_id: str, event_type: str, obj: dict[str, Any]) -> None:
        """Send `{type, timestamp, data: {object}}` to the client's endpoint; the id goes only in a header."""
        with self.lock:
            client = self.clients[client_id]
            url, events, secret = client.webhook_url, client.enabled_events, client.webhook_secret
        if url is None or ("*" not in events and event_type not in events):
            return
        payload = {"type": event_type, "timestamp": _iso(time.time()), "data": {"object": obj}}
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.sender.send(_new_id("msg_"), event_type, url, body, secret)

    # --- The hosted page -----------------------------------------------------------------------------

    def open_session(self, session_id: str) -> Session | Response:
        """The session behind a page, or the page to show instead (unknown, or no longer open)."""
        self.expire_due()
        with self.lock:
            session = self.sessions.get(session_id)
        if session is None:
            return pages.message_page("Unknown checkout", "There is no checkout at this address.", 404)
        if session.status != "open":
            return pages.message_page(
                "Checkout closed", f"This checkout is {session.status} and cannot be paid.", 409
            )
        return session

    def page_for(self, session: Session, *, error: str = "", name: str = "", status: int = 200) -> Response:
        return pages.checkout_page(
            session.id,
            session.amount_total,
            session.currency,
            session.csrf_token,
            error=error,
            name=name,
            status=status,
        )

    def pay(self, session: Session, form: dict[str, str]) -> Response:
        number = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
        name = form.get("billingName", "").strip()
        expiry = _parse_expiry(form.get("cardExpiry", ""))
        cvc = form.get("cardCvc", "").strip()
        problem = ""
        if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn_ok(number)):
            problem = "Your card number is invalid."
        elif expiry is None:
            problem = "Your card's expiration date is invalid (MM / YY)."
        elif not (cvc.isdigit() and len(cvc) in (3, 4)):
            problem = "Your card's security code is invalid."
        elif not name:
            problem = "The name on the card is required."
        if problem or expiry is None:
            return self.page_for(session, error=problem, name=name, status=400)
        now = datetime.now(UTC)
        error: tuple[str, str] | None = None
        if (expiry[1], expiry[0]) < (now.year, now.month):
            error = EXPIRED_CARD_ERROR
        elif number == CHALLENGE_CARD and not self.faults.three_ds_skipped:
            authentication_id = _new_id("acs_")
            with self.lock:
                if session.status != "open":
                    return self.closed(session)
                session.authentication_id = authentication_id
                self.authentications[authentication_id] = session.id
            return RedirectResponse(f"/c/authenticate/{authentication_id}", status_code=303)
        elif number in DECLINES and not self.faults.decline_ends_complete:
            error = DECLINES[number]
        return self.end(session, "failed" if error else "complete", error)

    def cancel(self, session: Session) -> Response:
        return self.end(session, "failed" if self.faults.cancel_ends_failed else "canceled", None)

    def authentication(self, authentication_id: str) -> Session | Response:
        with self.lock:
            session_id = self.authentications.get(authentication_id)
        found = self.open_session(session_id) if session_id else None
        if found is None:
            return pages.message_page("Unknown authentication", "There is no authentication here.", 404)
        if isinstance(found, Session) and found.authentication_id != authentication_id:
            return self.closed(found)
        return found

    def authenticate(self, session: Session, form: dict[str, str]) -> Response:
        if form.get("action") == "cancel":
            return self.end(
                session, "failed", ("authentication_canceled", "The authentication was canceled.")
            )
        given = form.get("password", "")
        if secrets.compare_digest(given.encode(), THREE_DS_PASSWORD.encode()):
            return self.end(session, "complete", None)
        return self.end(
            session, "failed", ("authentication_failed", "The card's 3-D Secure authentication failed.")
        )

    def end(self, session: Session, status: str, error: tuple[str, str] | None) -> Response:
        """Finish the session and send the shopper back to the merchant."""
        if not self.finish(session, status, error):
            return self.closed(session)
        target = session.success_url if status == "complete" else session.cancel_url
        back = _with_query(target, {"session_id": session.id, "redirect_status": status})
        return RedirectResponse(back, status_code=303)

    @staticmethod
    def closed(session: Session) -> Response:
        return pages.message_page(
            "Checkout closed", f"This checkout is {session.status} and cannot be paid.", 409
        )


def create_app(gateway: Kestrel) -> FastAPI:
    app = FastAPI(title="Kestrel Pay", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return exc.response()

    @app.exception_handler(OAuthError)
    async def oauth_error(_: Request, exc: OAuthError) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/c/"):  # the shopper's pages answer in HTML, whatever goes wrong
            page = pages.message_page("Not here", str(exc.detail), exc.status_code)
            page.headers.update(exc.headers or {})
            return page
        code = {404: "resource_missing", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        error = ApiError(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))
        return error.response()

    async def json_body(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError):
            return None

    async def form_of(request: Request) -> dict[str, str]:
        """The posted form's text fields; a body that is no form at all counts as an empty form."""
        try:
            form = await request.form()
        except (StarletteHTTPException, ValueError, AssertionError):
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def answer(stored: _Stored, replayed: bool) -> JSONResponse:
        headers = {"idempotent-replayed": "true"} if replayed else {}
        return JSONResponse(stored.body, status_code=stored.status, headers=headers)

    def client(request: Request) -> Client:
        return gateway.client_of(request.headers.get("authorization"))

    @app.post("/v1/oauth/token")
    async def token(request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise OAuthError(
                400, "invalid_request", "the token request must be application/x-www-form-urlencoded"
            )
        issued = gateway.issue_token(await form_of(request), request.headers.get("authorization"))
        return JSONResponse(issued, headers={"cache-control": "no-store", "pragma": "no-cache"})

    @app.post("/v1/checkout/sessions")
    async def create_session(request: Request) -> Response:
        merchant = client(request)
        stored, replayed = gateway.create_session(
            merchant, await json_body(request), request.headers.get("idempotency-key")
        )
        return answer(stored, replayed)

    @app.get("/v1/checkout/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> Response:
        if gateway.faults.status_without_token and "authorization" not in request.headers:
            return JSONResponse(gateway.session_json(gateway.session_of(None, session_id)))
        session = gateway.session_of(client(request), session_id)
        return JSONResponse(gateway.session_json(session))

    @app.post("/v1/checkout/sessions/{session_id}/expire")
    async def expire_session(session_id: str, request: Request) -> Response:
        session = gateway.expire_session(client(request), session_id)
        return JSONResponse(gateway.session_json(session))

    @app.post("/v1/refunds")
    async def create_refund(request: Request) -> Response:
        merchant = client(request)
        stored, replayed = gateway.create_refund(
            merchant, await json_body(request), request.headers.get("idempotency-key")
        )
        return answer(stored, replayed)

    @app.get("/v1/refunds/{refund_id}")
    async def get_refund(refund_id: str, request: Request) -> Response:
        return JSONResponse(gateway.refund_of(client(request), refund_id).to_json())

    # One route per path, whatever its methods: a 405 then lists in `Allow` every method the path has.
    @app.api_route("/v1/webhook_endpoint", methods=["GET", "PUT"])
    async def webhook_endpoint(request: Request) -> Response:
        merchant = client(request)
        if request.method == "PUT":
            merchant = gateway.configure_endpoint(merchant, await json_body(request))
        elif merchant.webhook_url is None:
            raise ApiError(404, "resource_missing", "No webhook endpoint is configured for this client.")
        return JSONResponse(merchant.endpoint_json())

    def forged(session: Session, form: dict[str, str]) -> bool:
        return not secrets.compare_digest(form.get("csrf_token", "").encode(), session.csrf_token.encode())

    def expired_form() -> Response:
        return pages.message_page("Form expired", "This form has expired: reload the page.", 403)

    @app.api_route("/c/pay/{session_id}", methods=["GET", "POST"])
    async def checkout(session_id: str, request: Request) -> Response:
        found = gateway.open_session(session_id)
        if not isinstance(found, Session):
            return found
        if request.method == "GET":
            return gateway.page_for(found)
        form = await form_of(request)
        return expired_form() if forged(found, form) else gateway.pay(found, form)

    @app.post("/c/pay/{session_id}/cancel")
    async def cancel_checkout(session_id: str, request: Request) -> Response:
        found = gateway.open_session(session_id)
        if not isinstance(found, Session):
            return found
        form = await form_of(request)
        return expired_form() if forged(found, form) else gateway.cancel(found)

    @app.api_route("/c/authenticate/{authentication_id}", methods=["GET", "POST"])
    async def challenge(authentication_id: str, request: Request) -> Response:
        found = gateway.authentication(authentication_id)
        if not isinstance(found, Session):
            return found
        if request.method == "GET":
            return pages.challenge_page(authentication_id, found.amount_total, found.currency)
        return gateway.authenticate(found, await form_of(request))

    return app


class KestrelServer:
    """Kestrel Pay on uvicorn in a thread, on 127.0.0.1 and a free port (`base_url` says which).

    Faults are keyword flags (`KestrelServer(no_retry=True)`, names in `Faults`). `retry_schedule` is the wait
    before each retry (default 1, 2, 4, 8 s: five attempts); `webhook_url` points the merchant's endpoint at a
    receiver from the start (else `set_webhook_url` or `PUT /v1/webhook_endpoint`).
    """

    def __init__(
        self,
        *,
        retry_schedule: Sequence[float] = DEFAULT_SCHEDULE_SECONDS,
        webhook_timeout: float = DEFAULT_ATTEMPT_TIMEOUT_SECONDS,
        token_ttl_seconds: float = TOKEN_TTL_SECONDS,
        session_ttl_seconds: float = SESSION_TTL_SECONDS,
        webhook_url: str | None = None,
        **faults: bool,
    ) -> None:
        self.faults = Faults(**faults)
        self.gateway = Kestrel(
            self.faults,
            retry_schedule=retry_schedule,
            webhook_timeout=webhook_timeout,
            token_ttl_seconds=token_ttl_seconds,
            session_ttl_seconds=session_ttl_seconds,
        )
        self.credentials = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "webhook_secret": WEBHOOK_SECRET,
        }
        self.other_credentials = {
            "client_id": OTHER_CLIENT_ID,
            "client_secret": OTHER_CLIENT_SECRET,
            "webhook_secret": OTHER_WEBHOOK_SECRET,
        }
        self.webhook_secret = WEBHOOK_SECRET
        self.retry_schedule = tuple(retry_schedule)
        self.max_attempts = self.gateway.sender.max_attempts
        if webhook_url is not None:
            self.set_webhook_url(webhook_url)
        # Bound before uvicorn starts, so the port is known and nobody else can take it meanwhile.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.setblocking(False)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.gateway.base_url = self.base_url
        config = uvicorn.Config(
            create_app(self.gateway), log_level="error", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="kestrel-pay", daemon=True
        )
        self._stop_sweeping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep, name="kestrel-expiry", daemon=True)

    def set_webhook_url(self, url: str | None, *, client_id: str = CLIENT_ID) -> None:
        """Point a client's webhook endpoint at `url` (None: no endpoint, nothing is sent)."""
        self.gateway.set_webhook_url(client_id, url)

    @property
    def messages(self) -> list[Any]:
        """Every webhook message queued so far, with its attempts (tests read them)."""
        return list(self.gateway.sender.messages)

    def _sweep(self) -> None:
        while not self._stop_sweeping.wait(0.2):
            self.gateway.expire_due()

    def start(self, timeout: float = 15.0) -> KestrelServer:
        self.gateway.sender.start()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Kestrel Pay did not start on {self.base_url}")
            time.sleep(0.02)
        self._sweeper.start()
        return self

    def stop(self) -> None:
        self._stop_sweeping.set()
        if self._sweeper.is_alive():
            self._sweeper.join(timeout=5)
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.gateway.sender.stop()
        self._sock.close()

    def __enter__(self) -> KestrelServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
