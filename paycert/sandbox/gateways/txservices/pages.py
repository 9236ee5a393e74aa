"""The account holder's pages: the ACS (3-D Secure challenge) for cards and the confirmation page for
e-wallet payments. Both end with `303 See Other` to the merchant's `merchantRedirectUrl` carrying
`paymentId` and the short `status` (Y, N or C)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from paycert.sandbox.gateways.txservices import codes
from paycert.sandbox.gateways.txservices.ledger import OPEN_STATES, PREFIX, Doc, Ledger
from paycert.sandbox.pages import render
from paycert.sandbox.state import public_base

ACS_PASSWORD = "password1"


def return_to(doc: Doc, status: str | None = None) -> Response:
    """303 to the merchant with `paymentId` and the short `status` (the payment's own unless given)."""
    target = str(doc["merchantRedirectUrl"])
    query = urlencode({"paymentId": doc["id"], "status": status or doc["transactionStatus"]})
    return RedirectResponse(f"{target}{'&' if '?' in target else '?'}{query}", status_code=303)


def _open_on(doc: Doc, page: str) -> bool:
    return bool(doc.get("page") == page and doc["transactionStatus"] in OPEN_STATES)


def register(router: APIRouter, ledger: Ledger) -> None:
    faults = ledger.state.faults

    def closed(doc: Doc | None) -> Response:
        if doc is None:
            return render("txservices_closed.html", status_code=404, message="There is no such payment.")
        return render(
            "txservices_closed.html",
            status_code=409,
            message=f"The payment is {doc['status']}: there is nothing left to confirm.",
        )

    def open_doc(payment_id: str, page: str) -> Doc | Response:
        doc = ledger.find(payment_id)
        if doc is None or not _open_on(doc, page):
            return closed(doc)
        return doc

    def close(payment_id: str, page: str, outcome: Callable[[Doc], None]) -> Doc | Response:
        """Apply `outcome` if the payment is still open on `page` (checked and written atomically: two
        submissions of one page, or a submission and the expiry sweep, end it once)."""

        def change(doc: Doc) -> bool:
            if not _open_on(doc, page):
                return False
            outcome(doc)
            return True

        done = ledger.transition(payment_id, change)
        return done if done is not None else closed(ledger.find(payment_id))

    autocapture = faults.active("3ds-manual-autocapture")

    def authenticated(doc: Doc) -> None:
        """3-D Secure passed: a debit is captured, a preauthorization only held (`Ledger.mark_succeeded`)."""
        if autocapture and doc["paymentType"] == "PA":
            # The fault 3ds-manual-autocapture: the challenged preauthorization is captured at once, as if it
            # were a debit; the merchant's capture then finds nothing left to capture.
            doc["capturedAmount"] = doc["amount"]
            ledger.mark(doc, "Y", "capturesuccess", codes.CAPTURED, "Captured")
            return
        ledger.mark_succeeded(doc)

    def succeed(
        payment_id: str, page: str, outcome: Callable[[Doc], None] = ledger.mark_succeeded
    ) -> Response:
        doc = close(payment_id, page, outcome)
        if isinstance(doc, Response):
            return doc
        # The fault wrong-return-status: the payment succeeded (status API, callback) but the shopper
        # comes back to the merchant with the short status of a failure.
        return return_to(doc, "N" if faults.active("wrong-return-status") else None)

    def cancel(doc: Doc, page: str) -> Response:
        if faults.active("cancel-ignored"):
            # The fault: the shopper is sent back as after a cancel, but the payment stays open (3D or P)
            # and no callback says it was cancelled; only the 30-minute expiry will end it.
            return return_to(doc, "C")

        def cancelled(d: Doc) -> None:
            ledger.mark(d, "C", "cancelled", codes.CANCELLED, "Cancelled by the account holder")

        done = close(doc["id"], page, cancelled)
        return done if isinstance(done, Response) else return_to(done)

    def fail(payment_id: str) -> Response:
        def failed(d: Doc) -> None:
            ledger.mark_failed(d, "3-D Secure authentication failed", "authentication_failed")

        done = close(payment_id, "acs", failed)
        return done if isinstance(done, Response) else return_to(done)

    @router.get("/acs/{payment_id}", tags=["txservices"])
    def acs_page(payment_id: str, request: Request) -> Response:
        doc = open_doc(payment_id, "acs")
        if isinstance(doc, Response):
            return doc
        return render(
            "txservices_acs.html",
            faults=faults,
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
            return cancel(doc, "acs")
        # The fault any-3ds-password: the page is shown, but whatever is typed passes.
        if form.get("password") == ACS_PASSWORD or faults.active("any-3ds-password"):
            return succeed(payment_id, "acs", authenticated)
        return fail(payment_id)

    @router.get("/confirm/{payment_id}", tags=["txservices"])
    def confirm_page(payment_id: str, request: Request) -> Response:
        doc = open_doc(payment_id, "confirm")
        if isinstance(doc, Response):
            return doc
        return render(
            "txservices_confirm.html",
            faults=faults,
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
        return succeed(payment_id, "confirm") if form.get("action") == "pay" else cancel(doc, "confirm")
