"""`POST /payout` (paymentType PO): the merchant sends money to a card, given in full or as a registration."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from paycert.sandbox.gateways.txservices import cards, checksum, codes, validation
from paycert.sandbox.gateways.txservices.calls import keyed
from paycert.sandbox.gateways.txservices.codes import invalid
from paycert.sandbox.gateways.txservices.credentials import SECURE_KEY
from paycert.sandbox.gateways.txservices.http import read_params, require, respond
from paycert.sandbox.gateways.txservices.ledger import Ledger
from paycert.sandbox.gateways.txservices.payments import API, url
from paycert.sandbox.state import public_base


def register(router: APIRouter, ledger: Ledger) -> None:
    state = ledger.state

    @router.post(API + "/payout", tags=["txservices"])
    async def payout(request: Request) -> Response:
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
                checksum.payout(
                    params["authentication.memberId"],
                    params["merchantTransactionId"],
                    params["amount"],
                    SECURE_KEY,
                ),
            )
            validation.amount(params["amount"], state.faults, params["currency"])
            currency = validation.currency(params["currency"])
            if params["paymentType"] != "PO":
                raise invalid("paymentType must be PO for a payout")
            if params.get("registrationId"):
                registration = ledger.registration(params["registrationId"])
                card, brand = ledger.card_of(registration), str(registration["paymentBrand"])
            else:
                brand, card = validation.brand(params), validation.card(params, cvv=False)
            doc = ledger.new_payment(
                kind="payout",
                card=card.public(),
                merchantTransactionId=params["merchantTransactionId"],
                amount=params["amount"],
                currency=currency,
                paymentType="PO",
                paymentMode="CC",
                paymentBrand=brand,
                registrationId=params.get("registrationId") or None,
                notificationUrl=url(params, "notificationUrl", required=False),
            )
            outcome = cards.decide(card, ledger.now())
            if state.faults.active("payout-declined"):
                # The fault: every payout is refused, as a declined card's payout is.
                outcome = cards.Outcome("declined", "Payout declined by the acquirer")
            if outcome.decision == "declined":
                doc = ledger.finish(
                    doc, "N", "payoutfailed", codes.FAILED, f"Payout failed: {outcome.reason}"
                )
            else:  # a payout is never challenged: the merchant, not the account holder, sends it
                doc = ledger.finish(doc, "Y", "payoutsuccessful", codes.SUCCEEDED, "Payout succeeded")
            return respond(request, ledger.view(doc, public_base(request)))

        return await keyed(request, ledger, "txservices:payout", operate)
