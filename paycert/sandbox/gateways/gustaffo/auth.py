"""OAuth2 client credentials: `POST /oauth/token`, and the bearer-token check every API operation makes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from paycert.sandbox.gateways.gustaffo.api import GatewayError, GatewayRoute
from paycert.sandbox.state import SandboxState

# The sandbox's public test credentials (documented, served at /_sandbox/credentials): not anyone's secret.
CREDENTIALS: dict[str, str] = {"client_id": "gustaffo-sandbox", "client_secret": "gst_sandbox_secret_7Qm2"}
# A second test client, of another merchant: it gets tokens, and this merchant's API refuses them (SEC-ACCESS).
OTHER_CREDENTIALS: dict[str, str] = {
    "client_id": "gustaffo-other-merchant",
    "client_secret": "gst_other_secret_3Lx8",
}
NO_ACCESS = "This client has no access to this merchant's API"

TOKEN_KIND = "gustaffo.token"
TOKEN_TTL_SECONDS = 3600
INVALID_CLIENT = "Invalid client credentials"
_MAX_REMEMBERED_TOKENS = 10_000


def _digest(token: str) -> str:
    # Tokens are stored by their hash: the sandbox's database never holds a usable bearer token.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    return unquote(client_id), unquote(client_secret)


def _credentials_match(client_id: str, client_secret: str) -> bool:
    matches = []
    for known in (CREDENTIALS, OTHER_CREDENTIALS):
        id_ok = hmac.compare_digest(client_id.encode(), known["client_id"].encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), known["client_secret"].encode())
        matches.append(id_ok and secret_ok)
    return any(matches)


def build_token_router(state: SandboxState) -> APIRouter:
    router = APIRouter(route_class=GatewayRoute)

    @router.post("/oauth/token", operation_id="getToken", tags=["gustaffo"])
    async def get_token(request: Request) -> JSONResponse:
        form = await request.form()
        basic = _basic_credentials(request.headers.get("authorization", ""))
        client_id, client_secret = basic or (
            str(form.get("client_id", "")),
            str(form.get("client_secret", "")),
        )
        if not _credentials_match(client_id, client_secret):
            raise GatewayError(401, "invalid_client", INVALID_CLIENT, {"WWW-Authenticate": "Basic"})
        if form.get("grant_type") != "client_credentials":
            raise GatewayError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        token = secrets.token_urlsafe(32)
        expires_at = state.clock.now() + TOKEN_TTL_SECONDS
        state.store.put(TOKEN_KIND, _digest(token), {"client_id": client_id, "expires_at": expires_at})
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECONDS},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    return router


def bearer_check(state: SandboxState) -> Callable[[Request], None]:
    """The check of every API call: a valid, unexpired bearer token, unless the `no-auth` fault is on.

    Issued tokens never change (the store keeps each one's expiry, by hash), so a token once read is checked
    from memory; its expiry is still compared with the sandbox clock every time, which may have moved.
    """
    expiries: dict[str, tuple[float, str]] = {}

    def check(request: Request) -> None:
        if state.faults.active("no-auth"):
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise GatewayError(401, "unauthorized", "Missing bearer token", {"WWW-Authenticate": "Bearer"})
        digest = _digest(token)
        known = expiries.get(digest)
        if known is None:
            saved = state.store.get(TOKEN_KIND, digest)
            if saved is not None:
                if len(expiries) >= _MAX_REMEMBERED_TOKENS:
                    expiries.clear()
                known = expiries[digest] = (float(saved["expires_at"]), str(saved["client_id"]))
        if known is None or known[0] <= state.clock.now():
            raise GatewayError(
                401,
                "invalid_token",
                "Invalid or expired access token",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if known[1] != CREDENTIALS["client_id"]:
            raise GatewayError(
                403,
                "insufficient_scope",
                NO_ACCESS,
                {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )

    return check
