"""Back office on `/payments/{paymentId}`: capture (CP), refund (RF), reversal (RV), recurring REPEATED, and
the status inquiry (GET)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request, Response

from paycert.sandbox import currencies
from paycert.sandbox.gateways.txservices import auth, charge, checksum, codes, mandates, validation
from paycert.sandbox.gateways.txservices.calls import keyed
from paycert.sandbox.gateways.txservices.codes import invalid, not_allowed
from paycert.sandbox.gateways.txservices.credentials import SECURE_KEY
from paycert.sandbox.gateways.txservices.http import Params, guarded, read_params, require, respond
from paycert.sandbox.gateways.txservices.ledger import Change, Doc, Ledger, remaining
from paycert.sandbox.gateways.txservices.payments import API, payment_type, url
from paycert.sandbox.state import public_base

CAPTURED_STATES = frozenset({"capturesuccess", "settled", "partiallyrefunded"})
REVERSED = "Cancelled: the authorization was reversed"


def declined(doc: Doc) -> bool:
    """A card payment refused by the issuer (not a failed 3-D Secure authentication, not a payout)."""
    return doc["kind"] == "payment" and doc["transactionStatus"] == "N" and doc.get("failure") == "declined"


def _same_id(params: Params, payment_id: str) -> None:
    # paymentId may repeat the path in the body/query (so a client-side checksum hook sees what it signs).
    given = params.get("paymentId")
    if given and given != payment_id:
        raise invalid("paymentId does not match the paymentId of the path")


def money(amount: Decimal, payment: Doc) -> str:
    """An amount written with exactly the decimals of the payment's currency ("10.00" EUR, "10" JPY)."""
    return currencies.text(amount, str(payment["currency"]))


def _operate(ledger: Ledger, payment_id: str, change: Change) -> Doc:
    """Check and change the stored payment in one atomic step: concurrent captures or refunds of one payment
    each see the state the previous one left, so none can pass a check on an amount already taken."""
    ledger.get(payment_id)  # 404 for an unknown payment
    doc = ledger.transition(payment_id, change)
    assert doc is not None  # payments are never deleted, and `change` applies or raises
    return doc


def capture(ledger: Ledger, payment_id: str, amount: Decimal) -> Doc:
    over_allowed = ledger.state.faults.active("capture-over-auth")
    whole = ledger.state.faults.active("partial-capture-ignored")

    def change(doc: Doc) -> bool:
        if doc["kind"] != "payment" or doc["paymentType"] != "PA" or doc["status"] != "authsuccessful":
            raise not_allowed("only a successful preauthorization (status authsuccessful) can be captured")
        if amount > Decimal(doc["amount"]) and not over_allowed:
            raise not_allowed(
                f"capture amount {money(amount, doc)} exceeds the authorized amount {doc['amount']}"
            )
        # A partial capture takes what was asked; the rest of the authorization is released (this one capture
        # ends it). The fault partial-capture-ignored: the asked amount passed its check, the whole was taken.
        taken = Decimal(doc["amount"]) if whole else amount
        doc["capturedAmount"] = money(taken, doc)
        ledger.mark(doc, "Y", "capturesuccess", codes.CAPTURED, "Captured")
        return True

    return _operate(ledger, payment_id, change)


def refund(ledger: Ledger, payment_id: str, amount: Decimal) -> Doc:
    unchecked = ledger.state.faults.active("double-refund")
    made: list[Doc] = []  # the refund's own transaction, built from the payment as the change saw it

    def change(doc: Doc) -> bool:
        if doc["kind"] != "payment" or doc["status"] not in CAPTURED_STATES | {"refunded"}:
            raise not_allowed("only a captured payment (capturesuccess or settled) can be refunded")
        if not unchecked:
            if doc["refunds"] > 0:
                raise not_allowed(
                    "this payment was already refunded; a transaction can be refunded only once"
                )
            if amount > remaining(doc):
                raise not_allowed(
                    f"refund amount {money(amount, doc)} exceeds the captured amount {doc['capturedAmount']}"
                )
        refunded = Decimal(doc["refundedAmount"]) + amount
        doc["refundedAmount"] = money(refunded, doc)
        doc["refunds"] += 1
        status = "refunded" if refunded >= Decimal(doc["capturedAmount"]) else "partiallyrefunded"
        ledger.mark(doc, "Y", status, codes.REFUNDED, "Refunded")
        made[:] = [refund_transaction(ledger, doc, amount)]
        doc["refundId"] = made[0]["id"]
        return True

    # One batch: the payment's change, its callback and the refund's own transaction are written together.
    with ledger.state.store.lock:
        doc = _operate(ledger, payment_id, change)
        ledger.save(made[0])
    return doc


def refund_transaction(ledger: Ledger, payment: Doc, amount: Decimal) -> Doc:
    """The refund as a transaction of its own (paymentType RF, paycert's decision in the spec): the payment
    names it in `refundId`, getPayment reads it by that id, with the refund's amount and the refunded payment
    as `parentPaymentId`. It has no notificationUrl: the payment's own callback tells the merchant."""
    doc = ledger.new_payment(
        kind="refund",
        card=payment.get("card"),
        merchantTransactionId=payment["merchantTransactionId"],
        amount=money(amount, payment),
        currency=payment["currency"],
        paymentType="RF",
        paymentMode=payment["paymentMode"],
        paymentBrand=payment["paymentBrand"],
        parentPaymentId=payment["id"],
    )
    ledger.mark(doc, "Y", "refunded", codes.REFUNDED, "Refunded")
    return doc


def _reversible(doc: Doc) -> None:
    if doc["kind"] != "payment" or doc["paymentType"] != "PA" or doc["status"] != "authsuccessful":
        raise not_allowed("only an authorized, not captured preauthorization can be reversed")


def reverse(ledger: Ledger, payment_id: str, params: Params) -> Doc:
    doc = ledger.get(payment_id)
    if params.get("amount") and params["amount"] != doc["amount"]:
        raise invalid("a reversal is for the full authorized amount only; omit amount or send it unchanged")
    if ledger.state.faults.active("void-ignored"):
        _reversible(doc)
        # The fault: the answer of a reversal, but nothing is saved and no callback is sent: the
        # authorization stays open and capturable.
        return {
            **doc,
            "transactionStatus": "C",
            "status": "reversed",
            "result": {"code": codes.CANCELLED, "description": REVERSED},
        }

    def change(d: Doc) -> bool:
        _reversible(d)
        ledger.mark(d, "C", "reversed", codes.CANCELLED, REVERSED)
        return True

    return _operate(ledger, payment_id, change)


def _successful_initial(parent: Doc) -> bool:
    return bool(
        parent.get("recurringType") == "INITIAL"
        and parent["transactionStatus"] == "Y"
        and parent.get("vault")
    )


def repeat(ledger: Ledger, parent_id: str, params: Params) -> Doc:
    orphans_charged = ledger.state.faults.active("orphan-recurring")
    parent = ledger.find(parent_id) if orphans_charged else ledger.get(parent_id)
    require(params, "merchantTransactionId", "amount", "currency")
    validation.verify_checksum(
        params,
        checksum.with_amount(params["authentication.memberId"], SECURE_KEY, parent_id, params["amount"]),
    )
    validation.amount(params["amount"], ledger.state.faults, params["currency"])
    currency = validation.currency(params["currency"])
    kind = payment_type(params) if params.get("paymentType") else "DB"
    if parent is None or not _successful_initial(parent):
        if not orphans_charged:
            raise not_allowed("recurringType REPEATED needs a successful INITIAL payment as parent")
        # The fault: no card was ever agreed on for this series, and the payment is charged all the same.
        known = parent or {}
        return charge.unverified(
            ledger,
            card=known.get("card"),
            merchantTransactionId=params["merchantTransactionId"],
            amount=params["amount"],
            currency=currency,
            paymentType=kind,
            paymentMode=known.get("paymentMode") or "CC",
            paymentBrand=known.get("paymentBrand") or charge.UNVERIFIED_BRAND,
            recurringType="REPEATED",
            parentPaymentId=parent_id,
            merchantRedirectUrl=known.get("merchantRedirectUrl"),
            notificationUrl=url(params, "notificationUrl", required=False) or known.get("notificationUrl"),
        )
    card = ledger.card_of(ledger.registration(parent["vault"]))
    used = mandates.use(ledger, parent)  # a single-use mandate's one charge (409 once it is spent)
    doc = charge.start(
        ledger,
        card=card,
        challenge_allowed=False,
        merchantTransactionId=params["merchantTransactionId"],
        amount=params["amount"],
        currency=currency,
        paymentType=kind,
        paymentMode=parent["paymentMode"],
        paymentBrand=parent["paymentBrand"],
        recurringType="REPEATED",
        parentPaymentId=parent["id"],
        merchantRedirectUrl=parent["merchantRedirectUrl"],
        notificationUrl=url(params, "notificationUrl", required=False) or parent["notificationUrl"],
    )
    if used and doc["transactionStatus"] == "N":
        mandates.give_back(ledger, parent)
    return doc


def register(router: APIRouter, ledger: Ledger) -> None:
    state = ledger.state

    @router.post(API + "/payments/{payment_id}", tags=["txservices"])
    async def payment_operation(payment_id: str, request: Request) -> Response:
        scope = f"txservices:payments:{payment_id}"

        async def operate() -> Response:
            params = await read_params(request)
            require(params, "authentication.memberId", "authentication.checksum")
            validation.merchant(params, terminal=False)
            _same_id(params, payment_id)
            member = params["authentication.memberId"]
            if params.get("recurringType"):
                if params["recurringType"] != "REPEATED":
                    raise invalid("recurringType on /payments/{paymentId} must be REPEATED")
                doc = repeat(ledger, payment_id, params)
            else:
                operation = params.get("paymentType", "")
                if operation in ("CP", "RF"):
                    require(params, "amount")
                    validation.verify_checksum(
                        params, checksum.with_amount(member, SECURE_KEY, payment_id, params["amount"])
                    )
                    # In the payment's currency: a capture or refund names none of its own.
                    paid_in = (ledger.find(payment_id) or {}).get("currency")
                    amount = validation.amount(params["amount"], state.faults, paid_in)
                    operate = capture if operation == "CP" else refund
                    doc = operate(ledger, payment_id, amount)
                elif operation == "RV":
                    validation.verify_checksum(
                        params, checksum.without_amount(member, SECURE_KEY, payment_id)
                    )
                    doc = reverse(ledger, payment_id, params)
                else:
                    raise invalid("paymentType must be CP (capture), RF (refund) or RV (reversal)")
            return respond(request, ledger.view(doc, public_base(request)))

        return await keyed(request, ledger, scope, operate)

    @router.get(API + "/payments/{payment_id}", tags=["txservices"])
    async def get_payment(payment_id: str, request: Request) -> Response:
        async def handle() -> Response:
            auth.check(request, state)
            params = dict(request.query_params)
            require(params, "authentication.memberId", "authentication.checksum")
            validation.merchant(params, terminal=False)
            _same_id(params, payment_id)
            validation.verify_checksum(
                params, checksum.without_amount(params["authentication.memberId"], SECURE_KEY, payment_id)
            )
            doc = ledger.get(payment_id)
            if state.faults.active("refund-status-stale") and doc["kind"] == "refund":
                # The fault: the refund's own transaction reads as still pending, although the payment it
                # refunded says refunded.
                doc.update(transactionStatus="P", status="authstarted")
            if state.faults.active("wrong-status") and declined(doc):
                # The fault: a card the issuer refused is reported as the vendor's success status. Failed
                # 3-D Secure, cancelled and expired payments still read true (they are other criteria).
                doc.update(
                    transactionStatus="Y",
                    status="capturesuccess" if doc["paymentType"] == "DB" else "authsuccessful",
                )
            view = ledger.view(doc, public_base(request))
            view["result"] = {"code": codes.RECORD_FOUND, "description": "Record found"}
            return respond(request, view)

        return await guarded(request, ledger.now, handle)
