"""The pay page `/api/v1/pay/{type}/{merchantReference}/{invoiceId}`: the shopper pays the invoice by card or
cancels, then goes back to the payment's `redirectionUrl` (303, nothing appended: the merchant reads the
status back)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from paycert.sandbox.gateways.paylican import cards, invoices, webhooks
from paycert.sandbox.pages import render
from paycert.sandbox.state import SandboxState

PAY_ROUTE = "/api/v1/pay/{payment_type}/{reference}/{invoice_id}"
_CARD_FIELDS = ("cardNumber", "expiryMonth", "expiryYear", "cvv")


def _closed_page(invoice: dict[str, Any]) -> Response:
    if invoice["status"] == invoices.EXPIRED:
        return render(
            "paylican_message.html",
            status_code=410,
            title="Invoice expired",
            message=f"Invoice {invoice['invoiceId']} has expired and can no longer be paid.",
        )
    return render(
        "paylican_message.html",
        status_code=409,
        title="Invoice closed",
        message=f"Invoice {invoice['invoiceId']} is {invoice['status']} and can no longer be paid.",
    )


def _form_page(
    request: Request, invoice: dict[str, Any], *, error: str | None = None, status_code: int = 200
) -> Response:
    state: SandboxState = request.app.state.sandbox  # its faults decide the page's layout (desktop-only-page)
    return render(
        "paylican_pay.html",
        status_code=status_code,
        faults=state.faults,
        invoice=invoice,
        action=request.url.path,
        error=error,
    )


def _cancel(state: SandboxState, invoice: dict[str, Any]) -> Response:
    if state.faults.active("cancel-ignored"):
        # The fault: the shopper goes back to the merchant as after a cancel, but the invoice stays UNPAID
        # and no invoice.payment_rejected webhook is sent; only the 30-minute expiry will end it.
        return RedirectResponse(invoice["redirectionUrl"], status_code=303)
    invoice = invoices.save(
        state.store,
        {
            **invoice,
            "status": invoices.REJECTED,
            "paymentNo": _payment_no(),
            "paymentError": "CANCELLED_BY_CUSTOMER",
        },
    )
    webhooks.emit(state, invoice, webhooks.REJECTED, invoices.REJECTED)
    return RedirectResponse(invoice["redirectionUrl"], status_code=303)


def _pay(state: SandboxState, invoice: dict[str, Any], card: cards.CardEntry) -> Response:
    now = state.clock.now()
    invoice = invoices.save(
        state.store,
        {
            **invoice,
            "paymentNo": _payment_no(),
            "attemptedAt": now,
            "paymentMode": invoices.PAYMENT_MODE,
            "bankCode": invoices.SANDBOX_BANK,
            "collector": invoices.SANDBOX_BANK,
        },
    )
    # The shopper submitted the payment: announced before its outcome is known.
    webhooks.emit(state, invoice, webhooks.INITIATED, invoices.UNPAID)
    reason = cards.decline_reason(card, now)
    if reason is None:
        invoice = invoices.save(state.store, {**invoice, "status": invoices.PAID, "paymentDate": now})
        webhooks.emit(state, invoice, webhooks.EXECUTED, invoices.PAID)
    else:
        invoice = invoices.save(state.store, {**invoice, "status": invoices.FAILED, "paymentError": reason})
        webhooks.emit(state, invoice, webhooks.ERROR, invoices.FAILED)
    return RedirectResponse(invoice["redirectionUrl"], status_code=303)


def _payment_no() -> str:
    """A transaction reference like the seed's `gup87876f`: nine lowercase hex characters."""
    return secrets.token_hex(5)[:9]


def build_pay_page_router(state: SandboxState) -> APIRouter:
    router = APIRouter()

    def find(payment_type: str, reference: str, invoice_id: str) -> dict[str, Any] | None:
        invoice = invoices.load(state.store, invoice_id, state.clock.now())
        if invoice is None or invoice["type"] != payment_type or invoice["merchantReference"] != reference:
            return None
        return invoice

    def not_found(invoice_id: str) -> Response:
        return render(
            "paylican_message.html",
            status_code=404,
            title="Invoice not found",
            message=f"No invoice {invoice_id} for this payment type and reference.",
        )

    @router.get(PAY_ROUTE, response_model=None)
    def show(payment_type: str, reference: str, invoice_id: str, request: Request) -> Response:
        invoice = find(payment_type, reference, invoice_id)
        if invoice is None:
            return not_found(invoice_id)
        if invoice["status"] != invoices.UNPAID:
            return _closed_page(invoice)
        return _form_page(request, invoice)

    @router.post(PAY_ROUTE, response_model=None)
    async def submit(payment_type: str, reference: str, invoice_id: str, request: Request) -> Response:
        form = await request.form()
        entry = {name: str(form.get(name) or "") for name in (*_CARD_FIELDS, "action")}
        # Read, decide and record under the store lock: two submissions of one page pay (or cancel) once.
        with state.store.lock:
            invoice = find(payment_type, reference, invoice_id)
            if invoice is None:
                return not_found(invoice_id)
            if invoice["status"] != invoices.UNPAID:
                return _closed_page(invoice)
            if entry["action"] == "cancel":
                return _cancel(state, invoice)
            if entry["action"] != "pay":
                return _form_page(request, invoice, error="Choose Pay or Cancel.", status_code=400)
            card = cards.read_form(*(entry[name] for name in _CARD_FIELDS))
            if isinstance(card, str):
                return _form_page(request, invoice, error=card, status_code=400)
            return _pay(state, invoice, card)

    return router
