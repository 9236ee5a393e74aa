"""The Paylican payment API: createPayment, getPayment, the webhook invocations of an invoice, and the
sandbox-only configureWebhook (the seed configures the receiver out of band)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from paycert.sandbox.gateways.paylican import invoices, validation, webhooks
from paycert.sandbox.gateways.paylican.auth import PREFIX, check_bearer
from paycert.sandbox.gateways.paylican.errors import api_error
from paycert.sandbox.gateways.paylican.timefmt import zoned
from paycert.sandbox.state import SandboxState

_IDEMPOTENCY_SCOPE = "paylican.createPayment"


def _id_field(state: SandboxState) -> str:
    # Fault `schema-drift`: the payment id is renamed in create and status responses.
    return "invoiceID" if state.faults.active("schema-drift") else "invoiceId"


def _reported_status(state: SandboxState, status: str) -> str:
    # Fault `wrong-status`: a declined invoice (card refused) reads as paid. Cancelled (REJECTED) and
    # EXPIRED invoices still read true: they belong to other criteria.
    if state.faults.active("wrong-status") and status == invoices.FAILED:
        return invoices.PAID
    return status


def payment_view(state: SandboxState, invoice: dict[str, Any]) -> dict[str, Any]:
    webhook_status, error = webhooks.summary(webhooks.invocations(state, invoice["invoiceId"]))
    paid_at = invoice["paymentDate"]
    return {
        _id_field(state): invoice["invoiceId"],
        "merchantReference": invoice["merchantReference"],
        "type": invoice["type"],
        "customerCode": invoice["customerCode"],
        "itemName": invoice["itemName"],
        "beneficiaryCode": invoice["beneficiaryCode"],
        "status": _reported_status(state, invoice["status"]),
        "totalAmount": invoice["totalAmount"],
        "paymentNo": invoice["paymentNo"],
        "paymentDate": zoned(paid_at) if paid_at is not None else None,
        "paymentMode": invoice["paymentMode"],
        "bankCode": invoice["bankCode"],
        "collector": invoice["collector"],
        "paymentError": invoice["paymentError"],
        "additionalFields": invoice["additionalFields"],
        "createdAt": zoned(invoice["createdAt"]),
        "expiresAt": zoned(invoice["expiresAt"]),
        "webhookStatus": webhook_status,
        "error": error,
    }


def build_api_router(state: SandboxState) -> APIRouter:
    router = APIRouter()

    def path_of(request: Request) -> str:
        return request.url.path.removeprefix(PREFIX)

    @router.post("/api/v1/payment", response_model=None)
    async def create_payment(request: Request) -> Response:
        denied = check_bearer(state, request)
        if denied is not None:
            return denied

        async def create() -> Response:
            now = state.clock.now()
            try:
                body = validation.parse_json_object(await request.body())
            except validation.MalformedBodyError as exc:
                return api_error(400, str(exc), path=path_of(request), now=now)
            problems = validation.problems_of(body, check_amount=not state.faults.active("accept-bad-amount"))
            if problems:
                return api_error(400, problems[0], path=path_of(request), now=now, errors=problems)
            invoice_id = invoices.new_invoice_id(state.store, body["type"], now)
            # Kept in whole cents of the account's currency: a third decimal is rounded half-up (paycert's decision).
            priced = {**body, "amount": validation.in_cents(body["amount"])}
            invoices.open_invoice(state.store, priced, invoice_id, now)
            return JSONResponse(
                {_id_field(state): invoice_id, "merchantReference": body["merchantReference"]}
            )

        return await state.idempotency.once(request, _IDEMPOTENCY_SCOPE, create)

    @router.get("/api/v1/payment/{invoice_id}", response_model=None)
    def get_payment(invoice_id: str, request: Request) -> Response:
        denied = check_bearer(state, request)
        if denied is not None:
            return denied
        invoice = invoices.load(state.store, invoice_id, state.clock.now())
        if invoice is None:
            return api_error(
                404, f"Invoice {invoice_id} not found", path=path_of(request), now=state.clock.now()
            )
        return JSONResponse(payment_view(state, invoice))

    @router.get("/api/v1/payment/{invoice_id}/webhooks", response_model=None)
    def list_webhook_invocations(invoice_id: str, request: Request) -> Response:
        denied = check_bearer(state, request)
        if denied is not None:
            return denied
        if invoices.load(state.store, invoice_id, state.clock.now()) is None:
            return api_error(
                404, f"Invoice {invoice_id} not found", path=path_of(request), now=state.clock.now()
            )
        return JSONResponse(webhooks.invocations(state, invoice_id))

    @router.put("/api/v1/webhook-endpoint", response_model=None)
    async def configure_webhook(request: Request) -> Response:
        denied = check_bearer(state, request)
        if denied is not None:
            return denied
        now = state.clock.now()
        try:
            body = validation.parse_json_object(await request.body())
        except validation.MalformedBodyError as exc:
            return api_error(400, str(exc), path=path_of(request), now=now)
        url = body.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
            return api_error(400, "url must be an absolute http or https URL", path=path_of(request), now=now)
        return JSONResponse(webhooks.configure(state, str(url)))

    return router
