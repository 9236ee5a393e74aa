"""Reading requests (form-urlencoded or JSON) and answering in JSON or XML, as the caller's Accept asks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from paycert.sandbox.gateways.txservices.codes import ApiError, invalid
from paycert.sandbox.gateways.txservices.xmlrender import to_xml

Params = dict[str, str]


def _scalar(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise invalid(f"{name} must be a string, a number or a boolean (send parameters as a flat object)")


async def read_params(request: Request) -> Params:
    """The request's parameters by name (`card.number`, ...), whatever the body's Content-Type."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if media_type == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise invalid(f"the body is not valid JSON ({exc.__class__.__name__})") from exc
        if not isinstance(data, dict):
            raise invalid("the JSON body must be an object of parameters")
        return {str(k): _scalar(str(k), v) for k, v in data.items() if v is not None}
    if media_type in ("application/x-www-form-urlencoded", ""):
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise invalid("the body is not UTF-8") from exc
    raise ApiError(
        415,
        "10105",
        "Invalid parameter: Content-Type must be application/x-www-form-urlencoded or application/json",
    )


def wants_xml(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/xml" in accept or "text/xml" in accept


def respond(request: Request, document: dict[str, Any], status_code: int = 200) -> Response:
    if wants_xml(request):
        drift = request.app.state.sandbox.faults.active("xml-drift")  # the fault: see xmlrender.DRIFTED
        return Response(to_xml(document, drift=drift), status_code=status_code, media_type="application/xml")
    return JSONResponse(document, status_code=status_code)


def timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_document(error: ApiError, now: float) -> dict[str, Any]:
    return {
        "status": "error",
        "result": {"code": error.code, "description": error.description},
        "timestamp": timestamp(now),
    }


async def guarded(
    request: Request, now: Callable[[], float], handle: Callable[[], Awaitable[Response]]
) -> Response:
    """Run `handle`; an ApiError becomes the documented error body in the format the caller accepts."""
    try:
        return await handle()
    except ApiError as error:
        return respond(request, error_document(error, now()), error.http_status)


def require(params: Params, *names: str) -> None:
    missing = [name for name in names if not params.get(name, "").strip()]
    if missing:
        raise invalid(f"missing {', '.join(missing)}")
