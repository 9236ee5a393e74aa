"""The payment API: create (`POST /api/v1/payments`), status (`GET …/{paymentId}`) and refunds."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from paycert.sandbox import currencies, idempotency
from paycert.sandbox.faults import Faults
from paycert.sandbox.gateways.gustaffo.api import GatewayError, guarded_route, is_http_url
from paycert.sandbox.gateways.gustaffo.auth import bearer_check
from paycert.sandbox.gateways.gustaffo.checkout import payment_page_url
from paycert.sandbox.gateways.gustaffo.records import (
    CARD_DECLINED,
    COMPLETED,
    FAILED,
    PARTIALLY_REFUNDED,
    REFUNDABLE_STATUSES,
    REFUNDED,
    Payment,
    PaymentBook,
    iso,
    major,
)
from paycert.sandbox.state import SandboxState
from paycert.sandbox.store import new_id

INVALID_AMOUNT = "Invalid payment amount"
# Each refund as it was answered, by its id: what getRefund reads back (the payment keeps only a summary).
REFUND_KIND = "gustaffo.refund"
# A per-transaction cap (paycert's decision, in the spec): go-live guidelines ask gateways to enforce one.
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000.00")
_CURRENCY = re.compile(r"[A-Z]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_TEXT = 255


def _check_idempotency_key(request: Request) -> None:
    key = request.headers.get(idempotency.HEADER)
    if key is not None and not 1 <= len(key) <= _MAX_TEXT:
        raise GatewayError(
            400, "invalid_request", f"{idempotency.HEADER} must be 1 to {_MAX_TEXT} characters"
        )


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        # Decimals, not floats: amounts are rounded to the cent exactly as written.
        body = json.loads(await request.body(), parse_float=Decimal)
    except ValueError as exc:
        raise GatewayError(400, "invalid_request", "The body must be JSON") from exc
    if not isinstance(body, dict):
        raise GatewayError(400, "invalid_request", "The body must be a JSON object")
    return body


def _amount_minor(
    value: Any,
    *,
    allow_non_positive: bool,
    message: str,
    capped: bool = True,
    currency: str = "EUR",
    faults: Faults | None = None,
) -> int:
    """The amount in the currency's minor units, rounded half-up to the last one (the cent, the yen, the fils);
    400 `invalid_amount` below 0.01, above the cap, or when rounding leaves nothing (0.4 JPY).

    Rounded rather than refused: a JSON number such as 19.99 often reaches a server as 19.990000000000002
    once a client did arithmetic on floats (paycert's decision, in the spec).
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise GatewayError(400, "invalid_amount", f"{message}: amount must be a number")
    amount = Decimal(value)
    if not amount.is_finite():
        raise GatewayError(400, "invalid_amount", message)
    if amount < MIN_AMOUNT and not allow_non_positive:
        raise GatewayError(400, "invalid_amount", message)
    if capped and abs(amount) > MAX_AMOUNT:
        raise GatewayError(400, "invalid_amount", f"{message}: above the maximum of {MAX_AMOUNT:.2f}")
    minor = currencies.to_minor(amount, currency, faults or Faults())
    if minor < 1 and not allow_non_positive:
        raise GatewayError(400, "invalid_amount", f"{message}: less than one minor unit of {currency}")
    return minor


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > _MAX_TEXT:
        raise GatewayError(
            400, "invalid_request", f"{name} must be a non-empty string of at most {_MAX_TEXT}"
        )
    return value


def _customer(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise GatewayError(400, "invalid_request", "customer must be an object")
    email, name = value.get("email"), value.get("name")
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email)):
        raise GatewayError(400, "invalid_request", "customer.email must be an e-mail address")
    if name is not None and (not isinstance(name, str) or len(name) > _MAX_TEXT):
        raise GatewayError(400, "invalid_request", "customer.name must be a string")
    return {k: v for k, v in (("email", email), ("name", name)) if v is not None}


def _parse_create(
    body: dict[str, Any], *, allow_non_positive: bool, capped: bool = True, faults: Faults | None = None
) -> dict[str, Any]:
    if "amount" not in body:
        raise GatewayError(400, "invalid_request", "amount is required")
    currency = body.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise GatewayError(400, "invalid_request", "currency must be an ISO 4217 code such as EUR")
    amount_minor = _amount_minor(
        body["amount"],
        allow_non_positive=allow_non_positive,
        message=INVALID_AMOUNT,
        capped=capped,
        currency=currency,
        faults=faults,
    )
    return_url = _text(body, "returnUrl")
    if not is_http_url(return_url):
        raise GatewayError(400, "invalid_request", "returnUrl must be an absolute http(s) URL")
    return {
        "amount_minor": amount_minor,
        "currency": currency,
        "order_id": _text(body, "orderId"),
        "description": _text(body, "description"),
        "return_url": return_url,
        "customer": _customer(body.get("customer")),
    }


def build_payment_router(state: SandboxState, book: PaymentBook) -> APIRouter:
    router = APIRouter(route_class=guarded_route(bearer_check(state)), tags=["gustaffo"])
    # The schema-drift fault renames the id field of create and status answers.
    id_field = "payment_id" if state.faults.active("schema-drift") else "paymentId"

    @router.post("/api/v1/payments", operation_id="createPayment", status_code=201)
    async def create_payment(request: Request) -> Any:
        _check_idempotency_key(request)

        async def create() -> Response:
            fields = _parse_create(
                await _json_body(request),
                allow_non_positive=state.faults.active("accept-bad-amount"),
                capped=not state.faults.active("no-cap"),
                faults=state.faults,
            )
            payment = book.create(**fields)
            answer = {
                id_field: payment.payment_id,
                "redirectUrl": payment_page_url(request, payment.payment_id),
                "status": payment.status,
                "amount": major(payment.amount_minor, payment.currency),
                "currency": payment.currency,
                "orderId": payment.order_id,
                "createdAt": iso(payment.created_at),
                "expiresAt": iso(payment.expires_at),
            }
            return JSONResponse(answer, status_code=201)

        return await state.idempotency.once(request, "gustaffo.createPayment", create)

    @router.get("/api/v1/payments/{paymentId}", operation_id="getPayment")
    def get_payment(paymentId: str) -> JSONResponse:
        payment = book.get(paymentId)
        if payment is None:
            raise GatewayError(404, "not_found", "Payment not found")
        status = payment.status
        declined = status == FAILED and payment.failure_reason == CARD_DECLINED
        if declined and state.faults.active("wrong-status"):
            status = COMPLETED  # the fault: a card the issuer refused reported as paid
        return JSONResponse(
            {
                id_field: payment.payment_id,
                "status": status,
                "amount": major(payment.amount_minor, payment.currency),
                "currency": payment.currency,
                "orderId": payment.order_id,
                "description": payment.description,
                "refundedAmount": major(payment.refunded_minor, payment.currency),
                "createdAt": iso(payment.created_at),
                "updatedAt": iso(payment.updated_at),
                "expiresAt": iso(payment.expires_at),
                **({"failureReason": payment.failure_reason} if status == FAILED else {}),
                # How the shopper paid (CARD, PAYPAL), once they chose on the hosted page.
                **({"method": payment.method} if payment.method else {}),
            }
        )

    @router.post("/api/v1/payments/{paymentId}/refunds", operation_id="refundPayment", status_code=201)
    async def refund_payment(paymentId: str, request: Request) -> Any:
        _check_idempotency_key(request)

        async def refund() -> Response:
            body = await _json_body(request) if await request.body() else {}
            return JSONResponse(_refund(state, book, paymentId, body), status_code=201)

        return await state.idempotency.once(request, f"gustaffo.refundPayment:{paymentId}", refund)

    @router.get("/api/v1/refunds/{refundId}", operation_id="getRefund")
    def get_refund(refundId: str) -> JSONResponse:
        refund = state.store.get(REFUND_KIND, refundId)
        if refund is None:
            raise GatewayError(404, "not_found", "Refund not found")
        if state.faults.active("refund-status-stale"):
            # The fault: the refund reads back as a refund of the whole payment, whatever was refunded.
            payment = book.get(str(refund["paymentId"]))
            whole = major(payment.amount_minor, payment.currency) if payment else refund["amount"]
            refund = {**refund, "amount": whole}
        return JSONResponse(refund)

    return router


def _refund(state: SandboxState, book: PaymentBook, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    unchecked = state.faults.active("double-refund")
    # The fault refund-over-remainder: a refund is held against the payment's amount, not what is left of it.
    lenient = state.faults.active("refund-over-remainder")
    payment = book.get(payment_id)
    if payment is None:
        raise GatewayError(404, "not_found", "Payment not found")
    requested = body.get("amount")
    minor = (
        _amount_minor(
            requested,
            allow_non_positive=False,
            message="Invalid refund amount",
            currency=payment.currency,
            faults=state.faults,
        )
        if requested is not None
        else None
    )
    allowed = set(REFUNDABLE_STATUSES) | ({REFUNDED} if unchecked else set())
    refund_id = new_id("rf_")
    outcome: dict[str, Any] = {}

    def change(p: Payment) -> None:
        amount = p.remaining_minor if minor is None else minor
        if amount <= 0 and unchecked:
            amount = p.amount_minor  # the fault: a second full refund of a refunded payment
        if not unchecked and amount > (p.amount_minor if lenient else p.remaining_minor):
            left = currencies.from_minor(p.remaining_minor, p.currency)
            remaining = f"{currencies.text(left, p.currency)} {p.currency}"
            raise GatewayError(
                400, "refund_exceeds_remaining", f"Refund amount exceeds the refundable amount of {remaining}"
            )
        p.refunded_minor += amount
        p.status = REFUNDED if p.refunded_minor >= p.amount_minor else PARTIALLY_REFUNDED
        p.refunds.append(
            {"refundId": refund_id, "amount": major(amount, p.currency), "createdAt": iso(state.clock.now())}
        )
        outcome["amount"] = amount

    # One batch: the payment's change, its webhook and the refund as getRefund reads it are written together.
    with state.store.lock:
        updated = book.transition(payment_id, allowed, change)
        if updated is None:
            if payment.status == REFUNDED:
                raise GatewayError(409, "already_refunded", "Payment already refunded")
            raise GatewayError(
                409, "not_refundable", f"Payment cannot be refunded in status {payment.status}"
            )
        answer = {
            "refundId": refund_id,
            "paymentId": updated.payment_id,
            "amount": major(outcome["amount"], updated.currency),
            "currency": updated.currency,
            # Refunds settle at once in the sandbox, so the answer carries the payment's resulting status.
            "status": updated.status,
            "refundedAmount": major(updated.refunded_minor, updated.currency),
            "createdAt": iso(updated.updated_at),
        }
        state.store.put(REFUND_KIND, refund_id, answer)
    return answer
