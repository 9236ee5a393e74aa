"""The hosted payment page the shopper is redirected to, its 3-D Secure challenge page, and the simulated
PayPal approval page its "Pay with PayPal" button leads to (000 changelog 1.1.0).

All are real HTML forms. Every outcome ends in `303 See Other` to the merchant's `returnUrl` with
`paymentId` and `status` (COMPLETED, FAILED or CANCELLED) added to its query.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from paycert.sandbox import currencies
from paycert.sandbox.gateways.gustaffo import cards
from paycert.sandbox.gateways.gustaffo.records import (
    AUTHENTICATION_FAILED,
    AWAITING_3DS,
    CANCELLED,
    CARD_DECLINED,
    COMPLETED,
    FAILED,
    PENDING,
    Payment,
    PaymentBook,
)
from paycert.sandbox.pages import render
from paycert.sandbox.state import SandboxState

RETURN_PARAMS = ("paymentId", "status")
# Route names (unique in the whole sandbox app): absolute URLs are built with request.url_for, so they carry
# the scheme, host and prefix the caller used.
PAYMENT_PAGE = "gustaffo_payment_page"
CHALLENGE_PAGE = "gustaffo_challenge_page"
PAYPAL_PAGE = "gustaffo_paypal_page"
# How a payment was paid (the status API's and the webhook's `method`; paycert's decision in openapi.yaml).
CARD = "CARD"
PAYPAL = "PAYPAL"

# `url_for` searches every route of the app on each call (8 % of a create under load): the page's URL is
# resolved once per base URL with a placeholder for the id. Bounded: a base URL is one host:port of a sandbox.
_ID_SLOT = "PAYCERT-PAYMENT-ID"
_PAGE_TEMPLATES: dict[str, str] = {}
_MAX_TEMPLATES = 64


def payment_page_url(request: Request, payment_id: str) -> str:
    """The absolute URL of the hosted payment page, as `request.url_for(PAYMENT_PAGE, ...)` gives it."""
    base = str(request.base_url)
    template = _PAGE_TEMPLATES.get(base)
    if template is None:
        if len(_PAGE_TEMPLATES) >= _MAX_TEMPLATES:
            _PAGE_TEMPLATES.clear()
        template = _PAGE_TEMPLATES[base] = str(request.url_for(PAYMENT_PAGE, payment_id=_ID_SLOT))
    return template.replace(_ID_SLOT, quote(payment_id, safe=""))


def return_url(url: str, payment_id: str, status: str) -> str:
    """The merchant's return URL with the result added; its own query and fragment are kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in RETURN_PARAMS]
    query += [("paymentId", payment_id), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _back_to_merchant(payment: Payment, status: str | None = None) -> RedirectResponse:
    """303 to the merchant's return URL, with the payment's status unless a fault says otherwise."""
    return RedirectResponse(
        return_url(payment.return_url, payment.payment_id, status or payment.status), status_code=303
    )


def _unavailable(payment: Payment | None) -> HTMLResponse:
    if payment is None:
        return render("gustaffo_error.html", status_code=404, message="This payment does not exist.")
    return render(
        "gustaffo_error.html",
        status_code=409,
        message=f"This payment can no longer be paid (status {payment.status}).",
        payment=payment,
    )


def build_checkout_router(state: SandboxState, book: PaymentBook) -> APIRouter:
    router = APIRouter(tags=["gustaffo-shopper"], include_in_schema=False)

    def page(
        request: Request, payment: Payment, error: str | None = None, status_code: int = 200
    ) -> Response:
        return render(
            "gustaffo_pay.html",
            status_code=status_code,
            faults=state.faults,
            payment=payment,
            amount=currencies.shown(payment.amount_minor, payment.currency),
            action=payment_page_url(request, payment.payment_id),
            error=error,
        )

    def finished(payment: Payment) -> Response:
        if payment.status == COMPLETED and state.faults.active("wrong-return-status"):
            # The fault: the payment succeeded (status API, webhook) but the shopper comes back as failed.
            return _back_to_merchant(payment, FAILED)
        return _back_to_merchant(payment)

    def cancel(payment: Payment, current: str) -> Response:
        if state.faults.active("cancel-ignored"):
            # The fault: the shopper is sent back as after a cancel, but the payment stays open and no
            # webhook says it was cancelled; only the 30-minute expiry will end it.
            return _back_to_merchant(payment, CANCELLED)
        done = book.set_status(payment.payment_id, [current], CANCELLED)
        return _back_to_merchant(done) if done else _unavailable(book.get(payment.payment_id))

    @router.get("/checkout/{payment_id}", name=PAYMENT_PAGE)
    def payment_page(payment_id: str, request: Request) -> Response:
        payment = book.get(payment_id)
        if payment is None or payment.status != PENDING:
            return _unavailable(payment)
        return page(request, payment)

    @router.post("/checkout/{payment_id}")
    async def submit_payment(payment_id: str, request: Request) -> Response:
        form = await request.form()
        payment = book.get(payment_id)
        if payment is None or payment.status != PENDING:
            return _unavailable(payment)
        action = form.get("action", "pay")
        if action == "cancel":
            return cancel(payment, PENDING)
        if action == "paypal":
            # The shopper leaves for PayPal; the payment stays PENDING until they approve or cancel there.
            return RedirectResponse(str(request.url_for(PAYPAL_PAGE, payment_id=payment_id)), status_code=303)
        if action != "pay":
            return page(
                request, payment, error="Use the Pay, Pay with PayPal or Cancel button.", status_code=400
            )
        try:
            card = cards.read_card(
                str(form.get("cardNumber", "")), str(form.get("expiryDate", "")), str(form.get("cvv", ""))
            )
        except cards.CardInputError as exc:
            return page(request, payment, error=str(exc), status_code=400)
        result = cards.outcome(card, state.clock.now())
        if result == cards.CHALLENGE and state.faults.active("skip-3ds"):
            result = cards.COMPLETED  # the fault: the challenge card is let through unchallenged
        next_status = AWAITING_3DS if result == cards.CHALLENGE else result

        def pay(p: Payment) -> None:
            p.status = next_status
            p.card_brand = card.brand
            p.card_last4 = card.last4
            p.failure_reason = CARD_DECLINED if next_status == FAILED else None
            p.method = CARD

        done = book.transition(payment_id, [PENDING], pay)
        if done is None:
            return _unavailable(book.get(payment_id))
        if done.status == AWAITING_3DS:
            return RedirectResponse(
                str(request.url_for(CHALLENGE_PAGE, payment_id=payment_id)), status_code=303
            )
        return finished(done)

    def step_page(
        template: str,
        page: str,
        request: Request,
        payment: Payment,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        """A page of the journey after the card form (the 3-D Secure challenge, PayPal's approval)."""
        return render(
            template,
            status_code=status_code,
            faults=state.faults,
            payment=payment,
            amount=currencies.shown(payment.amount_minor, payment.currency),
            action=str(request.url_for(page, payment_id=payment.payment_id)),
            error=error,
        )

    def challenge(
        request: Request, payment: Payment, error: str | None = None, status_code: int = 200
    ) -> Response:
        return step_page("gustaffo_challenge.html", CHALLENGE_PAGE, request, payment, error, status_code)

    @router.get("/checkout/{payment_id}/3ds", name=CHALLENGE_PAGE)
    def challenge_page(payment_id: str, request: Request) -> Response:
        payment = book.get(payment_id)
        if payment is None or payment.status != AWAITING_3DS:
            return _unavailable(payment)
        return challenge(request, payment)

    @router.post("/checkout/{payment_id}/3ds")
    async def submit_challenge(payment_id: str, request: Request) -> Response:
        form = await request.form()
        payment = book.get(payment_id)
        if payment is None or payment.status != AWAITING_3DS:
            return _unavailable(payment)
        action = form.get("action", "submit")
        if action == "cancel":
            return cancel(payment, AWAITING_3DS)
        if action != "submit":
            return challenge(request, payment, error="Use the Confirm or Cancel button.", status_code=400)
        password = str(form.get("password", "")).encode()
        passed = hmac.compare_digest(password, cards.CHALLENGE_PASSWORD.encode())
        if state.faults.active("any-3ds-password"):
            passed = True  # the fault: the page is shown, but whatever is typed passes

        def authenticate(p: Payment) -> None:
            p.status = COMPLETED if passed else FAILED
            p.failure_reason = None if passed else AUTHENTICATION_FAILED

        done = book.transition(payment_id, [AWAITING_3DS], authenticate)
        return finished(done) if done else _unavailable(book.get(payment_id))

    def paypal(
        request: Request, payment: Payment, error: str | None = None, status_code: int = 200
    ) -> Response:
        return step_page("gustaffo_paypal.html", PAYPAL_PAGE, request, payment, error, status_code)

    @router.get("/checkout/{payment_id}/paypal", name=PAYPAL_PAGE)
    def paypal_page(payment_id: str, request: Request) -> Response:
        payment = book.get(payment_id)
        if payment is None or payment.status != PENDING:
            return _unavailable(payment)
        return paypal(request, payment)

    @router.post("/checkout/{payment_id}/paypal")
    async def submit_paypal(payment_id: str, request: Request) -> Response:
        form = await request.form()
        payment = book.get(payment_id)
        if payment is None or payment.status != PENDING:
            return _unavailable(payment)
        action = form.get("action", "")  # only a button approves: no default, unlike the card form
        if action not in ("approve", "cancel"):
            return paypal(request, payment, error="Use the Approve or Cancel button.", status_code=400)
        if action == "approve" and state.faults.active("wallet-approve-ignored"):
            # The fault: the shopper is sent back as paid, but the approval never reaches the payment: it
            # stays PENDING, no webhook says it was paid, and only the 30-minute expiry will end it.
            return _back_to_merchant(payment, COMPLETED)
        outcome = COMPLETED if action == "approve" else CANCELLED

        def settle(p: Payment) -> None:
            p.status = outcome
            p.method = PAYPAL  # a cancel at PayPal too: the merchant learns where the shopper gave up

        done = book.transition(payment_id, [PENDING], settle)
        # Straight back with the payment's own status: the card path's faults (wrong-return-status,
        # cancel-ignored) are about the card form and must not reach this path.
        return _back_to_merchant(done) if done else _unavailable(book.get(payment_id))

    return router
