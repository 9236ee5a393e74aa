"""Error bodies of the Paylican API (Spring Boot style) and of its Keycloak realm (OAuth2 style).

The seed only says "400 Bad Request / Returns JSON with the error message"; paycert decided the shape once in
`specs/paylican/schemas/error.json`: `{timestamp, status, error, message, errors, path}`.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi.responses import JSONResponse

from paycert.sandbox.gateways.paylican.timefmt import zoned


def api_error(
    status: int, message: str, *, path: str, now: float, errors: list[str] | None = None
) -> JSONResponse:
    """A Paylican API error: `message` is the first problem, `errors` lists them all."""
    body = {
        "timestamp": zoned(now),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "errors": errors if errors is not None else [message],
        "path": path,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="PGW"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """What Keycloak's token endpoint answers: `{"error": ..., "error_description": ...}`."""
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
