"""Quetzal Pay: a small but real payment gateway, different from the three paycert ships in every name.

Sessions instead of OAuth (`POST /v2/sessions` -> `X-Quetzal-Session`), charges in integer minor units with
nested answers (`{"charge": {...}}`), a hosted checkout page, refunds, and webhooks signed with Standard
Webhooks and retried with backoff. `openapi.yaml` beside this file is its contract; `profile.yaml` tells
paycert how to drive it. Two faults can be switched on to prove paycert notices them:
`signs_wrongly` (webhooks signed with another secret) and `decline_is_success` (the decline card settles).
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeGuard
from urllib.parse import urlencode, urlsplit

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tests.fourth_gateway.notifier import Notifier
from tests.fourth_gateway.page import checkout_page, closed_page, unknown_page

# Quetzal's public sandbox credentials, by the names profile.yaml gives them.
MERCHANT_ID = "qz_merchant_paycert"
API_SECRET = "qz_live_like_api_secret_7f3c1a9e"
WEBHOOK_SECRET = "whsec_QZhkI87WrbT5YO5RvMRN9DjlCxsvl42Q"
# The `signs_wrongly` fault signs with this one: well-formed, so only the signature check can catch it.
WRONG_WEBHOOK_SECRET = "whsec_DCcLjhueSI3CLd9dE46AE57lkVlSi6bW"
CREDENTIALS = {"merchant_id": MERCHANT_ID, "api_secret": API_SECRET, "webhook_secret": WEBHOOK_SECRET}

SESSION_TTL_SECONDS = 600
CHARGE_TTL_SECONDS = 30 * 60
# Test cards Quetzal declines, and why; any other number passing the Luhn check with a future expiry settles.
DECLINED_CARDS = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
REFUNDABLE = ("settled", "partially_refunded")


@dataclass
class Charge:
    ref: str
    merchant: str
    total: int
    iso_currency: str
    merchant_ref: str
    back_to: str
    notify_url: str | None
    label: str | None
    created_at: float
    state: str = "open"
    refunded_total: int = 0
    decline_reason: str | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, base_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ref": self.ref,
            "state": self.state,
            "total": self.total,
            "iso_currency": self.iso_currency,
            "merchant_ref": self.merchant_ref,
            "refunded_total": self.refunded_total,
            "created_at": _iso(self.created_at),
            "checkout_link": f"{base_url}/pay/{self.ref}",
        }
        if self.decline_reason:
            body["decline_reason"] = self.decline_reason
        return body


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _is_url(value: Any) -> bool:
    return (
        isinstance(value, str)
        and urlsplit(value).scheme in ("http", "https")
        and bool(urlsplit(value).netloc)
    )


def _is_minor_units(value: Any) -> TypeGuard[int]:
    # bool is an int in Python but never an amount; 12.0 is a float on the wire, so it is refused too.
    return isinstance(value, int) and not isinstance(value, bool)


def _luhn_ok(pan: str) -> bool:
    digits = [int(d) for d in reversed(pan)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


class Quetzal:
    """The gateway's state and rules; the FastAPI routes in `create_app` only translate HTTP to it."""

    def __init__(self, *, signs_wrongly: bool = False, decline_is_success: bool = False) -> None:
        self.decline_is_success = decline_is_success
        self.notifier = Notifier(WRONG_WEBHOOK_SECRET if signs_wrongly else WEBHOOK_SECRET)
        self.sessions: dict[str, tuple[str, float]] = {}
        self.charges: dict[str, Charge] = {}
        self.idempotent: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.lock = threading.Lock()

    def merchant_of(self, request: Request) -> str | None:
        token = request.headers.get("x-quetzal-session", "")
        with self.lock:
            found = self.sessions.get(token)
        if found is None or found[1] < time.time():
            return None
        return found[0]

    def charge_for(self, ref: str, merchant: str | None = None) -> Charge | None:
        with self.lock:
            charge = self.charges.get(ref)
        if charge is None or (merchant is not None and charge.merchant != merchant):
            return None
        if charge.state == "open" and time.time() - charge.created_at > CHARGE_TTL_SECONDS:
            self.finish(charge, "expired")
        return charge

    def finish(self, charge: Charge, state: str, reason: str | None = None) -> bool:
        """Move an open charge to `state` and tell the merchant; False when it was no longer open (a second
        submission of the page, or expiry racing the shopper): a charge ends once."""
        with self.lock:
            if charge.state != "open":
                return False
            charge.state = state
            charge.decline_reason = reason
        self.notify(charge, f"charge.{state}")
        return True

    def notify(self, charge: Charge, event_type: str) -> None:
        if not charge.notify_url:
            return
        event_id = f"evt_{secrets.token_hex(10)}"
        data: dict[str, Any] = {
            "charge_ref": charge.ref,
            "merchant_ref": charge.merchant_ref,
            "state": charge.state,
            "total": charge.total,
            "iso_currency": charge.iso_currency,
            "refunded_total": charge.refunded_total,
        }
        if charge.decline_reason:
            data["decline_reason"] = charge.decline_reason
        payload = {"id": event_id, "type": event_type, "occurred_at": _iso(time.time()), "data": data}
        self.notifier.send(event_id, charge.notify_url, payload)

    def outcome_of(self, pan: str, month: int, year: int) -> tuple[str, str | None]:
        """What the card gives: settled, or refused with a reason."""
        now = datetime.now(UTC)
        if (year, month) < (now.year, now.month):
            return "refused", "expired_card"
        reason = DECLINED_CARDS.get(pan)
        if reason and not self.decline_is_success:
            return "refused", reason
        return "settled", None


def _open_session(gateway: Quetzal, body: Any) -> JSONResponse:
    if not isinstance(body, dict) or not isinstance(body.get("merchant"), str):
        return _error(422, "invalid_request", "merchant and apiSecret are required strings")
    given = str(body.get("apiSecret", ""))
    if body["merchant"] != MERCHANT_ID or not secrets.compare_digest(given.encode(), API_SECRET.encode()):
        return _error(401, "bad_credentials", "Unknown merchant or wrong apiSecret")
    token = f"qzs_{secrets.token_urlsafe(24)}"
    with gateway.lock:
        gateway.sessions[token] = (MERCHANT_ID, time.time() + SESSION_TTL_SECONDS)
    return JSONResponse({"sessionToken": token, "ttl": SESSION_TTL_SECONDS}, status_code=201)


def _charge_problem(body: Any) -> str | None:
    """Why a create body is refused, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    total = body.get("total")
    if not _is_minor_units(total) or total <= 0:
        return "total must be a positive integer number of minor units (cents), e.g. 1050 for 10.50"
    if total > 99_999_999:
        return "total must not exceed 99999999 minor units"
    currency = body.get("iso_currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()):
        return "iso_currency must be an ISO 4217 code such as EUR"
    merchant_ref = body.get("merchant_ref")
    if not (isinstance(merchant_ref, str) and 0 < len(merchant_ref) <= 64):
        return "merchant_ref must be a string of 1 to 64 characters"
    if not _is_url(body.get("back_to")):
        return "back_to must be an absolute http(s) URL"
    if body.get("notify_url") is not None and not _is_url(body.get("notify_url")):
        return "notify_url must be an absolute http(s) URL"
    if body.get("label") is not None and not isinstance(body.get("label"), str):
        return "label must be a string"
    return None


def _card_problem(pan: str, exp: str, csc: str) -> tuple[str | None, int, int]:
    """Why the typed card cannot even be tried (a form error, not a decline), and its expiry."""
    if not (pan.isdigit() and 12 <= len(pan) <= 19 and _luhn_ok(pan)):
        return "The card number is not valid.", 0, 0
    month_text, _, year_text = exp.partition("/")
    if not (
        month_text.isdigit() and year_text.isdigit() and len(year_text) == 4 and 1 <= int(month_text) <= 12
    ):
        return "The expiry date must be MM/YYYY.", 0, 0
    if not (csc.isdigit() and len(csc) in (3, 4)):
        return "The security code must have 3 or 4 digits.", 0, 0
    return None, int(month_text), int(year_text)


def create_app(gateway: Quetzal) -> FastAPI:
    app = FastAPI(title="Quetzal Pay", docs_url=None, redoc_url=None, openapi_url=None)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def json_body(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return None

    @app.post("/v2/sessions")
    async def open_session(request: Request) -> Response:
        return _open_session(gateway, await json_body(request))

    @app.post("/v2/charges")
    async def create_charge(request: Request) -> Response:
        merchant = gateway.merchant_of(request)
        if merchant is None:
            return _error(401, "session_required", "A valid X-Quetzal-Session header is required")
        key = request.headers.get("idempotency-key")
        if key:
            with gateway.lock:
                replay = gateway.idempotent.get((merchant, key))
            if replay is not None:
                return JSONResponse(replay[1], status_code=replay[0])
        body = await json_body(request)
        problem = _charge_problem(body)
        if problem:
            return _error(422, "invalid_charge", problem)
        charge = Charge(
            ref=f"qch_{secrets.token_hex(8)}",
            merchant=merchant,
            total=body["total"],
            iso_currency=body["iso_currency"],
            merchant_ref=body["merchant_ref"],
            back_to=body["back_to"],
            notify_url=body.get("notify_url"),
            label=body.get("label"),
            created_at=time.time(),
        )
        answer = {"charge": charge.to_json(base(request))}
        with gateway.lock:
            gateway.charges[charge.ref] = charge
            if key:
                gateway.idempotent[(merchant, key)] = (201, answer)
        return JSONResponse(answer, status_code=201)

    @app.get("/v2/charges/{ref}")
    async def get_charge(ref: str, request: Request) -> Response:
        merchant = gateway.merchant_of(request)
        if merchant is None:
            return _error(401, "session_required", "A valid X-Quetzal-Session header is required")
        charge = gateway.charge_for(ref, merchant)
        if charge is None:
            return _error(404, "no_such_charge", f"No charge {ref} for this merchant")
        return JSONResponse({"charge": charge.to_json(base(request))})

    @app.post("/v2/charges/{ref}/refunds")
    async def refund_charge(ref: str, request: Request) -> Response:
        merchant = gateway.merchant_of(request)
        if merchant is None:
            return _error(401, "session_required", "A valid X-Quetzal-Session header is required")
        charge = gateway.charge_for(ref, merchant)
        if charge is None:
            return _error(404, "no_such_charge", f"No charge {ref} for this merchant")
        body = await json_body(request)
        total = body.get("total") if isinstance(body, dict) else None
        if not _is_minor_units(total) or total <= 0:
            return _error(422, "invalid_refund", "total must be a positive integer number of minor units")
        with gateway.lock:  # check and book under one lock: two concurrent refunds cannot both pass
            if charge.state not in REFUNDABLE:
                return _error(409, "not_refundable", f"A {charge.state} charge cannot be refunded")
            left = charge.total - charge.refunded_total
            if total > left:
                return _error(422, "refund_too_large", f"total {total} exceeds the refundable {left}")
            charge.refunded_total += total
            charge.state = "refunded" if charge.refunded_total == charge.total else "partially_refunded"
            refund = {"id": f"qrf_{secrets.token_hex(8)}", "charge_ref": ref, "total": total}
            charge.refunds.append(refund)
        gateway.notify(charge, f"charge.{charge.state}")
        answer = {"refund": {**refund, "charge_state": charge.state, "created_at": _iso(time.time())}}
        return JSONResponse(answer, status_code=201)

    @app.get("/pay/{ref}")
    async def show_checkout(ref: str) -> Response:
        charge = gateway.charge_for(ref)
        if charge is None:
            return unknown_page()
        if charge.state != "open":
            return closed_page(charge.state, 409)
        return checkout_page(charge.ref, charge.total, charge.iso_currency, charge.merchant_ref)

    @app.post("/pay/{ref}")
    async def submit_checkout(ref: str, request: Request) -> Response:
        charge = gateway.charge_for(ref)
        if charge is None:
            return unknown_page()
        if charge.state != "open":
            return closed_page(charge.state, 409)
        form = await request.form()
        if form.get("action") == "cancel":
            state, reason = "abandoned", None
        else:
            pan = str(form.get("pan", "")).replace(" ", "")
            problem, month, year = _card_problem(pan, str(form.get("exp", "")), str(form.get("csc", "")))
            if problem:
                holder = str(form.get("holder", ""))
                return checkout_page(
                    charge.ref,
                    charge.total,
                    charge.iso_currency,
                    charge.merchant_ref,
                    error=problem,
                    holder=holder,
                    status=422,
                )
            state, reason = gateway.outcome_of(pan, month, year)
        if not gateway.finish(charge, state, reason):
            return closed_page(charge.state, 409)
        separator = "&" if "?" in charge.back_to else "?"
        back = f"{charge.back_to}{separator}{urlencode({'ref': charge.ref, 'outcome': charge.state})}"
        return RedirectResponse(back, status_code=303)

    return app


class QuetzalServer:
    """Quetzal Pay on uvicorn in a thread, on 127.0.0.1 and a free port (`base_url` says which)."""

    def __init__(self, *, signs_wrongly: bool = False, decline_is_success: bool = False) -> None:
        self.gateway = Quetzal(signs_wrongly=signs_wrongly, decline_is_success=decline_is_success)
        self.credentials = dict(CREDENTIALS)
        # Bound before uvicorn starts, so the port is known and nobody else can take it meanwhile.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.setblocking(False)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(self.gateway), log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="quetzal-pay", daemon=True
        )

    def start(self, timeout: float = 15.0) -> QuetzalServer:
        self.gateway.notifier.start()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Quetzal Pay did not start on {self.base_url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.gateway.notifier.stop()
        self._sock.close()

    def __enter__(self) -> QuetzalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
