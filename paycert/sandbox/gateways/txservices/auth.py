"""The `authToken` endpoint and the `authtoken` header check every other operation makes.

Tokens are JWT-shaped (HS256) and carry their expiry on the sandbox clock, so a restarted sandbox keeps
accepting the tokens it issued and a test can make one expire by moving the clock an hour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import Request

from paycert.sandbox.gateways.txservices import codes
from paycert.sandbox.gateways.txservices.codes import ApiError
from paycert.sandbox.gateways.txservices.credentials import (
    OTHER_CREDENTIALS,
    PARTNER_ID,
    SECURE_KEY,
    USERNAME,
)
from paycert.sandbox.gateways.txservices.http import Params, timestamp
from paycert.sandbox.state import SandboxState

TOKEN_TTL_SECONDS = 3600
HEADER = "authtoken"
_SIGNING_KEY = f"paycert-txservices-token:{SECURE_KEY}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(message: str) -> str:
    return _b64(hmac.new(_SIGNING_KEY, message.encode("ascii"), hashlib.sha256).digest())


def issue(params: Params, now: float) -> dict[str, Any]:
    """The token answer for the right partnerId, username and sKey; a 401 otherwise."""
    given = (
        params.get("authentication.partnerId", ""),
        params.get("merchant.username", ""),
        params.get("authentication.sKey", ""),
    )
    other = (OTHER_CREDENTIALS["partner_id"], OTHER_CREDENTIALS["username"], OTHER_CREDENTIALS["secure_key"])
    matches = [
        all(hmac.compare_digest(a, b) for a, b in zip(given, known, strict=True))
        for known in ((PARTNER_ID, USERNAME, SECURE_KEY), other)
    ]
    if not any(matches):
        raise ApiError(
            401,
            codes.BAD_CREDENTIALS,
            "Authentication failed: invalid authentication.partnerId, merchant.username or authentication.sKey",
        )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {
        "iss": "txservices-sandbox",
        "sub": given[1],
        "partnerId": given[0],
        "iat": int(now),
        "exp": int(now) + TOKEN_TTL_SECONDS,
    }
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}"
    return {
        "AuthToken": f"{unsigned}.{_sign(unsigned)}",
        "expiresIn": TOKEN_TTL_SECONDS,
        "partnerId": given[0],
        "result": {"code": codes.SUCCEEDED, "description": "Token generated successfully"},
        "timestamp": timestamp(now),
    }


def check(request: Request, state: SandboxState) -> None:
    """Reject a request without a valid, unexpired `authtoken` header (unless the no-auth fault is on)."""
    if state.faults.active("no-auth"):
        return
    token = request.headers.get(HEADER, "").strip()
    if not token:
        raise ApiError(401, codes.BAD_TOKEN, "Unauthorized: the authtoken header is missing")
    parts = token.split(".")
    if len(parts) != 3 or not hmac.compare_digest(_sign(f"{parts[0]}.{parts[1]}"), parts[2]):
        raise ApiError(401, codes.BAD_TOKEN, "Unauthorized: the authtoken is not valid")
    try:
        claims = json.loads(_unb64(parts[1]))
        expires = float(claims["exp"])
        subject = str(claims["sub"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(401, codes.BAD_TOKEN, "Unauthorized: the authtoken is not valid") from exc
    if expires <= state.clock.now():
        raise ApiError(401, codes.BAD_TOKEN, "Unauthorized: the authtoken has expired, request a new one")
    if subject != USERNAME:
        raise ApiError(403, codes.BAD_TOKEN, "Forbidden: the authtoken belongs to another merchant")
