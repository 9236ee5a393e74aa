"""`POST /payments`: debit (DB) and preauthorization (PA) by card or e-wallet, optionally tokenizing the card
or starting a recurring series."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from paycert.sandbox.gateways.txservices import charge, checksum, mandates, validation, verification
from paycert.sandbox.gateways.txservices.calls import keyed
from paycert.sandbox.gateways.txservices.codes import invalid
from paycert.sandbox.gateways.txservices.credentials import SECURE_KEY
from paycert.sandbox.gateways.txservices.http import Params, read_params, require, respond
from paycert.sandbox.gateways.txservices.ledger import Ledger
from paycert.sandbox.state import public_base

API = "/transactionServices/REST/v1"


def url(params: Params, name: str, *, required: bool) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        if required:
            raise invalid(f"missing {name}")
        return None
    if not value.startswith(("http://", "https://")):
        raise invalid(f"{name} must be an absolute http(s) URL")
    return value


def payment_type(params: Params) -> str:
    value = params.get("paymentType", "")
    if value not in ("DB", "PA"):
        raise invalid("paymentType must be DB (debit) or PA (preauthorization)")
    return value


def register(router: APIRouter, ledger: Ledger) -> None:
    state = ledger.state

    @router.post(API + "/payments", tags=["txservices"])
    async def create_payment(request: Request) -> Response:
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
                "paymentType",
                "paymentMode",
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
            # A card PA of zero is a card verification (OPS-VERIFY); any other amount is checked as usual.
            if not verification.accepted(params, state.faults):
                validation.amount(params["amount"], state.faults, params["currency"])
            currency = validation.currency(params["currency"])
            kind = payment_type(params)
            mode = params["paymentMode"]
            recurring = params.get("recurringType") or None
            if recurring == "REPEATED":
                raise invalid("recurringType REPEATED is sent to POST /payments/{parentPaymentId}")
            if recurring not in (None, "INITIAL"):
                raise invalid("recurringType must be INITIAL here")
            tokenize = params.get("createRegistration", "").lower() == "true"
            if mode in charge.CARD_MODES:
                brand = validation.brand(params)
                card: validation.Card | None = validation.card(params, cvv=True)
            elif mode == charge.WALLET_MODE:
                if recurring or tokenize:
                    raise invalid(
                        "recurringType and createRegistration need a card payment (paymentMode CC/DC)"
                    )
                brand, card = params.get("paymentBrand") or "EWALLET", None
            else:
                raise invalid("paymentMode must be CC, DC (card) or EW (e-wallet)")
            doc = charge.start(
                ledger,
                card=card,
                tokenize_brand=brand if tokenize else None,
                merchantTransactionId=params["merchantTransactionId"],
                amount=validation.stored(params["amount"], currency, state.faults),
                currency=currency,
                paymentType=kind,
                paymentMode=mode,
                paymentBrand=brand,
                recurringType=recurring,
                mandateType=mandates.kind(params, recurring),
                orderDescriptor=params.get("orderDescriptor") or None,
                merchantRedirectUrl=url(params, "merchantRedirectUrl", required=True),
                notificationUrl=url(params, "notificationUrl", required=False),
            )
            return respond(request, ledger.view(doc, public_base(request)))

        return await keyed(request, ledger, "txservices:payments", operate)
