"""Paylican's Keycloak realm `PGW`: the password-grant token endpoint, the auth redirect to the pay page, and
the bearer check every API operation makes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from paycert.sandbox.gateways.paylican.errors import api_error, oauth_error
from paycert.sandbox.pages import render
from paycert.sandbox.state import SandboxState, public_base

PREFIX = "/paylican"
REALM_PATH = "/auth/realms/PGW/protocol/openid-connect"
PAY_PATH = "/api/v1/pay/"

CLIENT_ID = "invoice-system-client"
# Fixed, public sandbox test credentials (documented in the profile and served at /_sandbox/credentials).
CREDENTIALS: dict[str, str] = {
    "username": "paycert-merchant",
    "password": "paylican-sandbox-password",
    "client_id": CLIENT_ID,
}
# A second test user of the realm, another merchant's: it gets tokens, this merchant's API refuses them.
OTHER_CREDENTIALS: dict[str, str] = {
    "username": "paycert-other-merchant",
    "password": "paylican-other-password",
    "client_id": CLIENT_ID,
}

# paycert's decision: one hour, so a run that moves the test clock 31 minutes (expiry) keeps its token.
TOKEN_TTL_SECONDS = 3600
REFRESH_TTL_SECONDS = 7200
_TOKEN_KIND = "paylican.token"


def _digest(token: str) -> str:
    # The store keeps a digest only: a bearer token is a secret even in a sandbox.
    return hashlib.sha256(token.encode()).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def check_bearer(state: SandboxState, request: Request) -> Response | None:
    """None when the request carries a valid access token, else the 401 to answer (fault `no-auth`: None)."""
    if state.faults.active("no-auth"):
        return None
    path = request.url.path.removeprefix(PREFIX)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return api_error(
            401, "Full authentication is required to access this resource", path=path, now=state.clock.now()
        )
    saved = state.store.get(_TOKEN_KIND, _digest(token.strip()))
    if saved is None or saved["expiresAt"] <= state.clock.now():
        return api_error(401, "Invalid or expired access token", path=path, now=state.clock.now())
    if saved["username"] != CREDENTIALS["username"]:
        return api_error(403, "Access is denied", path=path, now=state.clock.now())
    return None


def build_auth_router(state: SandboxState) -> APIRouter:
    router = APIRouter()

    @router.post(REALM_PATH + "/token")
    async def get_token(request: Request) -> JSONResponse:
        form = await request.form()
        field = {
            name: str(form.get(name) or "") for name in ("username", "password", "grant_type", "client_id")
        }
        # Keycloak's order: a grant type must be named, the client must be known, then the grant is checked.
        if not field["grant_type"]:
            return oauth_error(400, "invalid_request", "Missing form parameter: grant_type")
        if not _same(field["client_id"], CLIENT_ID):
            return oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
        if field["grant_type"] != "password":
            return oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
        users = [
            _same(field["username"], known["username"]) and _same(field["password"], known["password"])
            for known in (CREDENTIALS, OTHER_CREDENTIALS)
        ]
        if not any(users):
            return oauth_error(401, "invalid_grant", "Invalid user credentials")
        token = secrets.token_urlsafe(32)
        now = state.clock.now()
        state.store.put(
            _TOKEN_KIND, _digest(token), {"username": field["username"], "expiresAt": now + TOKEN_TTL_SECONDS}
        )
        return JSONResponse(
            {
                "access_token": token,
                "expires_in": TOKEN_TTL_SECONDS,
                "refresh_expires_in": REFRESH_TTL_SECONDS,
                "refresh_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "not-before-policy": 0,
                "session_state": secrets.token_hex(16),
                "scope": "profile email",
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @router.get(REALM_PATH + "/auth", response_model=None)
    def authorize(request: Request, client_id: str = "", redirect_uri: str = "") -> Response:
        # The seed's "Redirect to Payment page": the realm sends the shopper on to the pay page. Valid redirect
        # URIs of the client are this gateway's pay pages only, as Keycloak's client configuration would say.
        if client_id != CLIENT_ID:
            return render(
                "paylican_message.html", status_code=400, title="We are sorry...", message="Client not found."
            )
        allowed = public_base(request) + PREFIX + PAY_PATH
        if not redirect_uri.startswith(allowed):
            return render(
                "paylican_message.html",
                status_code=400,
                title="We are sorry...",
                message="Invalid parameter: redirect_uri",
            )
        return RedirectResponse(redirect_uri, status_code=302)

    return router
