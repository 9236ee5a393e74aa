"""Invoices and their payment links: the seed's Invoice payment type ("Merchant can generate an Invoice for the
customers ... Customers can pay for their orders using the Payment-link"); paycert's decisions are written in
specs/txservices/openapi.yaml.

`POST /invoices` generates an invoice and answers its payment link; the link's page (`/invoice/{invoiceId}`)
takes a card and makes an ordinary txservices payment of the invoice's amount (a debit), which carries the
invoice's merchantTransactionId, notificationUrl and id: its callback is the merchant's news that the invoice
was paid. The invoice's state is read from its payments, so a payment that passes 3-D Secure later on the ACS
page pays the invoice just as one that succeeded at once, and a declined card leaves it payable.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from paycert.sandbox.gateways.txservices import auth, charge, checksum, codes, validation
from paycert.sandbox.gateways.txservices.calls import keyed
from paycert.sandbox.gateways.txservices.codes import ApiError, invalid
from paycert.sandbox.gateways.txservices.credentials import SECURE_KEY
from paycert.sandbox.gateways.txservices.http import Params, guarded, read_params, require, respond
from paycert.sandbox.gateways.txservices.ledger import OPEN_STATES, PREFIX, Doc, Ledger
from paycert.sandbox.gateways.txservices.pages import return_to
from paycert.sandbox.gateways.txservices.payments import API, url
from paycert.sandbox.pages import render
from paycert.sandbox.state import public_base
from paycert.sandbox.store import new_id

INVOICE = "txservices.invoice"
GENERATED = "generated"
PAID = "paid"
PAGE = "/invoice/{invoice_id}"
# The card fields of the link's page, by the payment parameter each one is.
CARD_FIELDS = {
    "cardNumber": "card.number",
    "expiryMonth": "card.expiryMonth",
    "expiryYear": "card.expiryYear",
    "cvv": "card.cvv",
}
# The brand of a card number, by its first digits (the page asks the shopper for no brand).
BRANDS = (("34", "AMEX"), ("37", "AMEX"), ("4", "VISA"), ("5", "MC"), ("2", "MC"))
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def brand_of(number: str) -> str | None:
    return next((brand for prefix, brand in BRANDS if number.startswith(prefix)), None)


def page_url(base_url: str, invoice_id: str) -> str:
    return f"{base_url}{PREFIX}/invoice/{invoice_id}"


def payments_of(ledger: Ledger, invoice: Doc) -> list[Doc]:
    return [doc for doc in (ledger.find(pid) for pid in invoice["payments"]) if doc is not None]


def paid_by(ledger: Ledger, invoice: Doc) -> Doc | None:
    """The payment that paid the invoice: one of its payments that took the money (refunded later or not)."""
    return next((p for p in payments_of(ledger, invoice) if Decimal(p["capturedAmount"]) > 0), None)


def awaiting(ledger: Ledger, invoice: Doc) -> Doc | None:
    """A payment of the invoice still open (3-D Secure): another one could pay the invoice twice."""
    return next((p for p in payments_of(ledger, invoice) if p["transactionStatus"] in OPEN_STATES), None)


def view(ledger: Ledger, invoice: Doc, base_url: str, result: tuple[str, str]) -> Doc:
    """The invoice as createInvoice and getInvoice answer it."""
    paying = paid_by(ledger, invoice)
    out: Doc = {
        "invoiceId": invoice["id"],
        "merchantTransactionId": invoice["merchantTransactionId"],
        "amount": invoice["amount"],
        "currency": invoice["currency"],
        "status": PAID if paying is not None else GENERATED,
        "customer": {"email": invoice["customerEmail"]},
    }
    if invoice.get("orderDescriptor"):
        out["orderDescriptor"] = invoice["orderDescriptor"]
    out["paymentLink"] = page_url(base_url, invoice["id"])
    if paying is not None:
        out["paymentId"] = paying["id"]
    out["result"] = {"code": result[0], "description": result[1]}
    out["timestamp"] = ledger.stamp()
    return out


def _email(params: Params) -> str:
    value = params["customer.email"].strip()
    if not _EMAIL.fullmatch(value):
        raise invalid("customer.email is not an email address")
    return value


def _card_entry(form: dict[str, str]) -> tuple[validation.Card, str]:
    """The card the shopper typed, checked as a payment's card is, and its brand; ApiError says what is wrong."""
    params = {name: form.get(field, "").strip() for field, name in CARD_FIELDS.items()}
    card = validation.card(params, cvv=True)
    brand = brand_of(card.number)
    if brand is None:
        raise invalid("cards of this brand are not accepted here (VISA, Mastercard and AMEX are)")
    return card, brand


def register(router: APIRouter, ledger: Ledger) -> None:
    state = ledger.state
    store = state.store
    faults = state.faults

    def find(invoice_id: str) -> Doc | None:
        return store.get(INVOICE, invoice_id)

    @router.post(API + "/invoices", tags=["txservices"])
    async def create_invoice(request: Request) -> Response:
        async def operate() -> Response:
            params = await read_params(request)
            require(
                params,
                "authentication.memberId",
                "authentication.terminalId",
                "authentication.checksum",
                "merchantTransactionId",
                "amount",
                "currency",
                "customer.email",
            )
            validation.merchant(params, terminal=True)
            validation.verify_checksum(
                params,
                checksum.payment(
                    params["authentication.memberId"],
                    SECURE_KEY,
                    params["merchantTransactionId"],
                    params["amount"],
                ),
            )
            validation.amount(params["amount"], faults, params["currency"])
            currency = validation.currency(params["currency"])
            invoice: Doc = {
                "id": new_id("inv_", 12),  # unguessable: the link is all a customer needs to pay
                "merchantTransactionId": params["merchantTransactionId"],
                "amount": validation.stored(params["amount"], currency, faults),
                "currency": currency,
                "customerEmail": _email(params),
                "orderDescriptor": params.get("orderDescriptor") or None,
                "merchantRedirectUrl": url(params, "merchantRedirectUrl", required=False),
                "notificationUrl": url(params, "notificationUrl", required=False),
                "payments": [],
                "createdAt": ledger.now(),
            }
            store.put(INVOICE, invoice["id"], invoice)
            generated = (codes.SUCCEEDED, "Invoice generated")
            return respond(request, view(ledger, invoice, public_base(request), generated))

        return await keyed(request, ledger, "txservices:invoices", operate)

    @router.get(API + "/invoices/{invoice_id}", tags=["txservices"])
    async def get_invoice(invoice_id: str, request: Request) -> Response:
        async def handle() -> Response:
            auth.check(request, state)
            params = dict(request.query_params)
            require(params, "authentication.memberId", "authentication.checksum")
            validation.merchant(params, terminal=False)
            if params.get("invoiceId") and params["invoiceId"] != invoice_id:
                raise invalid("invoiceId does not match the invoiceId of the path")
            validation.verify_checksum(
                params, checksum.without_amount(params["authentication.memberId"], SECURE_KEY, invoice_id)
            )
            invoice = find(invoice_id)
            if invoice is None:
                raise ApiError(
                    404, codes.NOT_FOUND, f"Invoice not found: no invoice with invoiceId {invoice_id}"
                )
            found = (codes.RECORD_FOUND, "Record found")
            return respond(request, view(ledger, invoice, public_base(request), found))

        return await guarded(request, ledger.now, handle)

    # -- the payment link's page ------------------------------------------------------------------------------

    def closed(message: str, status_code: int) -> Response:
        return render("txservices_closed.html", status_code=status_code, message=message)

    def page(request: Request, invoice: Doc, *, error: str | None = None, status_code: int = 200) -> Response:
        paying = paid_by(ledger, invoice)
        return render(
            "txservices_invoice.html",
            status_code=status_code,
            faults=faults,
            invoice=invoice,
            paid=paying["id"] if paying is not None else None,
            error=error,
            action=page_url(public_base(request), invoice["id"]),
        )

    @router.get(PAGE, tags=["txservices"])
    def invoice_page(invoice_id: str, request: Request) -> Response:
        invoice = find(invoice_id)
        if invoice is None:
            return closed("There is no such invoice.", 404)
        return page(request, invoice)

    @router.post(PAGE, tags=["txservices"])
    async def invoice_submit(invoice_id: str, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        base = public_base(request)
        # Read, decide and record under the store lock: two submissions of one link pay the invoice once.
        with store.lock:
            invoice = find(invoice_id)
            if invoice is None:
                return closed("There is no such invoice.", 404)
            if paid_by(ledger, invoice) is not None:
                return closed("The invoice is paid: there is nothing left to pay.", 409)
            if awaiting(ledger, invoice) is not None:
                return closed("A payment of this invoice awaits 3-D Secure: finish it first.", 409)
            try:
                card, brand = _card_entry(form)
            except ApiError as error:
                return page(request, invoice, error=error.description, status_code=400)
            # The fault invoice-link-unpaid: the card is charged, but the payment is not the invoice's: the
            # invoice never learns of it (it stays generated) and no callback goes to its notificationUrl.
            unpaid = faults.active("invoice-link-unpaid")
            doc = charge.start(
                ledger,
                card=card,
                merchantTransactionId=invoice["merchantTransactionId"],
                amount=invoice["amount"],
                currency=invoice["currency"],
                paymentType="DB",
                paymentMode="CC",
                paymentBrand=brand,
                orderDescriptor=invoice.get("orderDescriptor"),
                # The shopper comes back to the merchant, else to the link's page, which then says it is paid.
                merchantRedirectUrl=invoice["merchantRedirectUrl"] or page_url(base, invoice_id),
                notificationUrl=None if unpaid else invoice["notificationUrl"],
                invoiceId=None if unpaid else invoice_id,
            )
            if not unpaid:

                def attach(stored: Doc) -> Doc:
                    stored["payments"] = [*stored["payments"], doc["id"]]
                    return stored

                store.update(INVOICE, invoice_id, attach)
        if doc["transactionStatus"] == "N":
            why = doc["result"]["description"]
            return page(request, invoice, error=f"{why}. The invoice is not paid: you can try another card.")
        if doc["transactionStatus"] in OPEN_STATES:
            return RedirectResponse(f"{base}{PREFIX}/{doc['page']}/{doc['id']}", status_code=303)
        return return_to(doc)
