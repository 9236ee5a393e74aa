"""A small orders API whose only security is OAuth2, as PayPal and Square write theirs, and a mock serving it.

The mock issues tokens at `/v1/oauth2/token` (client credentials by HTTP Basic or in the form, or the password
grant) and serves `/v2/orders`; with `enforce=False` it serves every call whatever its credentials, the
fault CON-AUTH exists to catch. Every request it receives is kept (method, path, headers), so tests can say
what reached it.
"""

from __future__ import annotations

import base64
import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

CLIENT_ID = "orders-client"
CLIENT_SECRET = "orders-client-secret-not-a-secret"
USERNAME = "merchant@example.test"
PASSWORD = "merchant-password-not-a-secret"
SERVER = "https://api.orders.example.test/v2"

ORDER = {
    "type": "object",
    "required": ["id", "status", "amount"],
    "properties": {
        "id": {"type": "string", "pattern": "^ord_[0-9a-f]{8}$"},
        "status": {"type": "string", "enum": ["CREATED", "COMPLETED"]},
        "amount": {"type": "string", "pattern": "^[0-9]{1,6}\\.[0-9]{2}$"},
    },
    "additionalProperties": False,
}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def orders_spec(flows: dict[str, Any] | None = None, **schemes: dict[str, Any]) -> dict[str, Any]:
    """The orders API; its one used scheme is `oauth` (OAuth2 with `flows`), `schemes` are extra, unused ones."""
    flows = flows or {
        "clientCredentials": {"tokenUrl": "https://api.orders.example.test/v1/oauth2/token", "scopes": {}}
    }
    return copy.deepcopy(
        {
            "openapi": "3.0.3",
            "info": {"title": "Orders (OAuth2 only)", "version": "1.0.0"},
            "servers": [{"url": SERVER}],
            "security": [{"oauth": []}],
            "components": {
                "securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}, **schemes},
                "schemas": {"Order": ORDER, "Error": ERROR},
            },
            "paths": {
                "/orders": {
                    "post": {
                        "operationId": "orders.create",
                        "tags": ["orders"],
                        "requestBody": {
                            "required": True,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["amount"],
                                        "properties": {"amount": ORDER["properties"]["amount"]},
                                        "additionalProperties": False,
                                    }
                                }
                            },
                        },
                        "responses": {
                            "201": _json({"$ref": "#/components/schemas/Order"}, "created"),
                            "400": _json({"$ref": "#/components/schemas/Error"}, "invalid"),
                            "401": _json({"$ref": "#/components/schemas/Error"}, "no or wrong token"),
                        },
                    }
                },
                "/orders/{orderId}": {
                    "get": {
                        "operationId": "orders.get",
                        "tags": ["orders"],
                        "parameters": [
                            {
                                "name": "orderId",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string", "pattern": "^ord_[0-9a-f]{8}$"},
                            }
                        ],
                        "responses": {
                            "200": _json({"$ref": "#/components/schemas/Order"}, "the order"),
                            "401": _json({"$ref": "#/components/schemas/Error"}, "no or wrong token"),
                            "404": _json({"$ref": "#/components/schemas/Error"}, "no such order"),
                        },
                    }
                },
                "/health": {
                    "get": {
                        "operationId": "health",
                        "tags": ["ops"],
                        "security": [],
                        "responses": {"200": _json({"type": "object"}, "up")},
                    }
                },
            },
        }
    )


@dataclass
class OrdersMock:
    """What the mock saw: every request, and the tokens it issued."""

    enforce: bool = True
    token_status: int = 200
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, str]] = field(default_factory=dict)

    def authorised(self, request: Request) -> bool:
        value = request.headers.get("authorization", "")
        return not self.enforce or (value.startswith("Bearer ") and value[7:] in self.tokens)


def _client_ok(request: Request, form: dict[str, str]) -> bool:
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (user, password) == (CLIENT_ID, CLIENT_SECRET)
    return (form.get("client_id"), form.get("client_secret")) == (CLIENT_ID, CLIENT_SECRET)


def create_app(mock: OrdersMock) -> FastAPI:
    app = FastAPI()
    denied = JSONResponse({"error": "unauthorized"}, status_code=401)

    @app.middleware("http")
    async def keep(request: Request, call_next: Any) -> Response:
        mock.requests.append((request.method, request.url.path, dict(request.headers)))
        response: Response = await call_next(request)
        return response

    @app.post("/v1/oauth2/token")
    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if mock.token_status != 200:
            return Response("token service down", status_code=mock.token_status)
        grant = form.get("grant_type")
        ok = (grant == "client_credentials" and _client_ok(request, form)) or (
            grant == "password" and (form.get("username"), form.get("password")) == (USERNAME, PASSWORD)
        )
        if not ok:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        issued = secrets.token_hex(16)
        mock.tokens.add(issued)
        return JSONResponse({"access_token": issued, "token_type": "Bearer", "expires_in": 3600})

    @app.post("/v2/orders")
    async def create(request: Request) -> Response:
        if not mock.authorised(request):
            return denied
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "not json"}, status_code=400)
        amount = body.get("amount") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or set(body) != {"amount"}
            or not isinstance(amount, str)
            or not _is_amount(amount)
        ):
            return JSONResponse({"error": "invalid amount"}, status_code=400)
        order = {"id": f"ord_{secrets.token_hex(4)}", "status": "CREATED", "amount": amount}
        mock.orders[order["id"]] = order
        return JSONResponse(order, status_code=201)

    @app.get("/v2/orders/{order_id}")
    def read(order_id: str, request: Request) -> Response:
        if not mock.authorised(request):
            return denied
        order = mock.orders.get(order_id)
        return JSONResponse(order) if order else JSONResponse({"error": "no such order"}, status_code=404)

    @app.get("/v2/health")
    def health() -> Response:
        return JSONResponse({})

    return app


def _is_amount(value: str) -> bool:
    whole, dot, cents = value.partition(".")
    return bool(dot) and whole.isdigit() and 1 <= len(whole) <= 6 and cents.isdigit() and len(cents) == 2
