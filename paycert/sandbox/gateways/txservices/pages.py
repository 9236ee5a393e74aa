"""The account holder's pages: the ACS (3-D Secure challenge) for cards and the confirmation page for
e-wallet payments. Both end with `303 See Other` to the merchant's `merchantRedirectUrl` carrying
`paymentId` and the short `status` (Y, N or C)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from paycert.sandbox.gateways.txservices import codes
from paycert.sandbox.gateways.txservices.ledger import PREFIX, Doc, Ledger
from paycert.sandbox.pages import render
from paycert.sandbox.state import public_base

ACS_PASSWORD = "password1"


def return_to(doc: Doc, status: str | None = None) -> Response:
    """303 to the merchant with `paymentId` and the short `status` (the payment's own unless given)."""
    target = str(doc["merchantRedirectUrl"])
    query = urlencode({"paymentId": doc["id"], "status": status or doc["transactionStatus"]})
    return RedirectResponse(f"{target}{'&' if '?' in target else '?'}{query}", status_code=303)


def register(router: APIRouter, ledger: Ledger) -> None:
    faults = ledger.state.faults

    def succeed(doc: Doc) -> Response:
        doc = ledger.succeed(doc)
        # The fault wrong-return-status: the payment succeeded (status API, callback) but the shopper
        # comes back to the merchant with the short status of a failure.
        return return_to(doc, "N" if faults.active("wrong-return-status") else None)

    def cancel(doc: Doc) -> Response:
        if faults.active("cancel-ignored"):
            # The fault: the shopper is sent back as after a cancel, but the payment stays open (3D or P)
            # and no callback says it was cancelled; only the 30-minute expiry will end it.
            return return_to(doc, "C")
        return return_to(
            ledger.finish(doc, "C", "cancelled", codes.CANCELLED, "Cancelled by the account holder")
        )

    def open_doc(payment_id: str, page: str) -> Doc | Response:
        doc = ledger.state.store.get("txservices.payment", payment_id)
        if doc is None:
            return render("txservices_closed.html", status_code=404, message="There is no such payment.")
        if doc.get("page") != page or doc["transactionStatus"] not in ("3D", "P"):
            return render(
                "txservices_closed.html",
                status_code=409,
                message=f"The payment is {doc['status']}: there is nothing left to confirm.",
            )
        return doc

    @router.get("/acs/{payment_id}", tags=["txservices"])
    def acs_page(payment_id: str, request: Request) -> Response:
        doc = open_doc(payment_id, "acs")
        if isinstance(doc, Response):
            return doc
        return render(
            "txservices_acs.html",
            payment_id=payment_id,
            amount=doc["amount"],
            currency=doc["currency"],
            bin=doc["card"]["bin"],
            last4=doc["card"]["last4Digits"],
            action=f"{public_base(request)}{PREFIX}/acs/{payment_id}",
        )

    @router.post("/acs/{payment_id}", tags=["txservices"])
    async def acs_submit(payment_id: str, request: Request) -> Response:
        doc = open_doc(payment_id, "acs")
        if isinstance(doc, Response):
            return doc
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        if form.get("action") == "cancel":
            return cancel(doc)
        # The fault any-3ds-password: the page is shown, but whatever is typed passes.
        if form.get("password") == ACS_PASSWORD or faults.active("any-3ds-password"):
            return succeed(doc)
        return return_to(ledger.fail(doc, "3-D Secure authentication failed", "authentication_failed"))

    @router.get("/confirm/{payment_id}", tags=["txservices"])
    def confirm_page(payment_id: str, request: Request) -> Response:
        doc = open_doc(payment_id, "confirm")
        if isinstance(doc, Response):
            return doc
        return render(
            "txservices_confirm.html",
            payment_id=payment_id,
            amount=doc["amount"],
            currency=doc["currency"],
            brand=doc["paymentBrand"],
            action=f"{public_base(request)}{PREFIX}/confirm/{payment_id}",
        )

    @router.post("/confirm/{payment_id}", tags=["txservices"])
    async def confirm_submit(payment_id: str, request: Request) -> Response:
        doc = open_doc(payment_id, "confirm")
        if isinstance(doc, Response):
            return doc
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        return succeed(doc) if form.get("action") == "pay" else cancel(doc)
