"""Gustaffo's API conventions: `{"error", "message"}` bodies from anywhere in a route, 405s, URL checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def is_http_url(value: str) -> bool:
    """An absolute http(s) URL, as return and webhook URLs must be; malformed ones are just not URLs."""
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class GatewayError(Exception):
    """An API error with the status, machine code and human message the spec documents."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "message": self.message}, status_code=self.status, headers=self.headers
        )


class GatewayRoute(APIRoute):
    """A route whose GatewayError (from the handler or a dependency) becomes the gateway's JSON error body.

    The sandbox app is shared by all gateways, so the error shape is set per router, not by an app handler.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except GatewayError as exc:
                return exc.response()

        return handle


def guarded_route(check: Callable[[Request], None]) -> type[APIRoute]:
    """A GatewayRoute that runs `check` (which raises GatewayError to refuse) before the handler.

    Not a FastAPI dependency: resolving one costs more than the check itself on every API call.
    """

    class GuardedRoute(GatewayRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    check(request)
                except GatewayError as exc:
                    return exc.response()
                return await handler(request)

            return handle

    return GuardedRoute


def refuse_other_methods(router: APIRouter, parts: Iterable[APIRouter]) -> None:
    """Answer 405 with an `Allow` header listing every method a path serves, for each path of `parts`.

    Left alone, Starlette's 405 lists only the methods of the first route that matched the path, so
    `OPTIONS /api/v1/webhooks` would claim `Allow: POST` although GET is served too. `parts` are the
    sub-routers `router` includes (unprefixed); the refusals are added to `router` itself.
    """
    served: dict[str, set[str]] = {}
    for part in parts:
        for route in part.routes:
            if isinstance(route, APIRoute) and route.methods:
                served.setdefault(route.path, set()).update(route.methods)
    for path, methods in served.items():
        router.add_api_route(
            path,
            _refusal(", ".join(sorted(methods))),
            methods=sorted(_METHODS - methods),
            include_in_schema=False,
        )


def _refusal(allow: str) -> Callable[[], JSONResponse]:
    # A closure, not a default argument: FastAPI would read a parameter as a query parameter.
    def refuse() -> JSONResponse:
        return JSONResponse(
            {"error": "method_not_allowed", "message": f"Allowed methods: {allow}"},
            status_code=405,
            headers={"Allow": allow},
        )

    return refuse
