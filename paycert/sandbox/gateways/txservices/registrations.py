"""Tokenization: `POST /registrations` stores a card without charging it; `POST /paywithtoken/{registrationId}`
charges a stored card (same outcomes, 3-D Secure included, as the card itself)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from paycert.sandbox.gateways.txservices import charge, checksum, codes, validation
from paycert.sandbox.gateways.txservices.calls import keyed
from paycert.sandbox.gateways.txservices.codes import invalid
from paycert.sandbox.gateways.txservices.credentials import SECURE_KEY
from paycert.sandbox.gateways.txservices.http import read_params, require, respond
from paycert.sandbox.gateways.txservices.ledger import Ledger
from paycert.sandbox.gateways.txservices.payments import API, payment_type, url
from paycert.sandbox.state import public_base


def register(router: APIRouter, ledger: Ledger) -> None:
    state = ledger.state

    @router.post(API + "/registrations", tags=["txservices"])
    async def create_registration(request: Request) -> Response:
        async def operate() -> Response:
            params = await read_params(request)
            require(
                params,
                "authentication.memberId",
                "authentication.terminalId",
                "authentication.checksum",
                "merchantTransactionId",
            )
            validation.merchant(params, terminal=True)
            validation.verify_checksum(
                params,
                checksum.registration(
                    params["authentication.memberId"], SECURE_KEY, params["merchantTransactionId"]
                ),
            )
            brand = validation.brand(params)
            card = validation.card(params, cvv=True)
            if card.expired(ledger.now()):
                raise invalid("the card has expired (card.expiryMonth / card.expiryYear)")
            registration = ledger.register(card, brand, params["merchantTransactionId"])
            document = {
                "registrationId": registration["id"],
                "merchantTransactionId": params["merchantTransactionId"],
                "paymentBrand": brand,
                "card": card.public(),
                "result": {"code": codes.SUCCEEDED, "description": "Registration successful"},
                "timestamp": ledger.stamp(),
            }
            return respond(request, document)

        return await keyed(request, ledger, "txservices:registrations", operate)

    @router.post(API + "/paywithtoken/{registration_id}", tags=["txservices"])
    async def pay_with_token(registration_id: str, request: Request) -> Response:
        scope = f"txservices:paywithtoken:{registration_id}"

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
            validation.amount(params["amount"], state.faults, params["currency"])
            currency = validation.currency(params["currency"])
            kind = payment_type(params)
            registration = ledger.find_registration(registration_id)
            if registration is None and not state.faults.active("token-not-checked"):
                registration = ledger.registration(registration_id)  # 404 for an unknown token
            fields: dict[str, Any] = {
                "merchantTransactionId": params["merchantTransactionId"],
                "amount": params["amount"],
                "currency": currency,
                "paymentType": kind,
                "paymentMode": "CC",
                "registrationId": registration_id,
                "merchantRedirectUrl": url(params, "merchantRedirectUrl", required=True),
                "notificationUrl": url(params, "notificationUrl", required=False),
            }
            if registration is None:
                # The fault token-not-checked: a token nobody registered is charged as if it named a card.
                doc = charge.unverified(ledger, card=None, paymentBrand=charge.UNVERIFIED_BRAND, **fields)
            else:
                doc = charge.start(
                    ledger,
                    card=ledger.card_of(registration),
                    paymentBrand=registration["paymentBrand"],
                    **fields,
                )
            return respond(request, ledger.view(doc, public_base(request)))

        return await keyed(request, ledger, scope, operate)
