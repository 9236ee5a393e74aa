"""Provider states for pact verification: `POST /_sandbox/pact/{gateway}/state`.

The pact verifier (through paycert's state relay, or directly) posts `{"state": ..., "action": "setup" |
"teardown", "params": {...}}` before and after an interaction. Setup makes the named state true for that
gateway and answers the values the interaction may need (`{"payment_id": ...}`); teardown keeps what exists
(the sandbox's data is test data) and answers `{}`. Each gateway's state makers write through that gateway's
own records, so a payment made here reads exactly like one a shopper paid.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from paycert.sandbox.gateways.gustaffo import records as gustaffo_records
from paycert.sandbox.gateways.paylican import invoices as paylican_invoices
from paycert.sandbox.gateways.txservices import charge as txservices_charge
from paycert.sandbox.gateways.txservices.ledger import Ledger
from paycert.sandbox.state import SandboxState

COMPLETED_PAYMENT = "a completed payment exists"
_RETURN_URL = "https://merchant.example/return"

Maker = Callable[[SandboxState, dict[str, Any]], dict[str, Any]]


class StateChange(BaseModel):
    state: str = Field(
        description="The provider state the interaction is given, e.g. 'a completed payment exists'."
    )
    action: str = Field(default="setup", pattern="^(setup|teardown)$")
    params: dict[str, Any] = Field(default_factory=dict)


def _amount(params: dict[str, Any]) -> Decimal:
    return Decimal(str(params.get("amount", "10.00"))).quantize(Decimal("0.01"))


def _gustaffo_completed(state: SandboxState, params: dict[str, Any]) -> dict[str, Any]:
    book = gustaffo_records.PaymentBook(state)
    payment = book.create(
        amount_minor=int(_amount(params) * 100),
        currency=str(params.get("currency", "EUR")),
        order_id=str(params.get("reference", "PACT-STATE")),
        description="pact provider state",
        return_url=_RETURN_URL,
    )

    def paid(p: gustaffo_records.Payment) -> None:
        p.status = gustaffo_records.COMPLETED
        p.card_brand, p.card_last4 = "VISA", "1111"

    book.transition(payment.payment_id, gustaffo_records.OPEN_STATUSES, paid)
    return {"payment_id": payment.payment_id}


def _txservices_completed(state: SandboxState, params: dict[str, Any]) -> dict[str, Any]:
    doc = txservices_charge.unverified(
        Ledger(state),
        card={"bin": "411111", "last4Digits": "1111"},
        merchantTransactionId=str(params.get("reference", "PACT-STATE")),
        amount=f"{_amount(params):.2f}",
        currency=str(params.get("currency", "EUR")),
        paymentType="DB",
        paymentMode="CC",
        paymentBrand="VISA",
    )
    return {"payment_id": doc["id"]}


def _paylican_completed(state: SandboxState, params: dict[str, Any]) -> dict[str, Any]:
    now = state.clock.now()
    store = state.store
    invoice_id = paylican_invoices.new_invoice_id(store, "PCT", now)
    invoice = paylican_invoices.open_invoice(
        store,
        {
            "type": "PCT",
            "merchantReference": str(params.get("reference", "PACT-STATE")),
            "customerCode": "PAYCERT",
            "amount": float(_amount(params)),
            "redirectionUrl": _RETURN_URL,
        },
        invoice_id,
        now,
    )
    paylican_invoices.save(
        store,
        {
            **invoice,
            "status": paylican_invoices.PAID,
            "paymentNo": f"PN{invoice_id}",
            "paymentDate": now,
            "attemptedAt": now,
            "paymentMode": paylican_invoices.PAYMENT_MODE,
            "bankCode": paylican_invoices.SANDBOX_BANK,
        },
    )
    return {"payment_id": invoice_id}


MAKERS: dict[str, dict[str, Maker]] = {
    "gustaffo": {COMPLETED_PAYMENT: _gustaffo_completed},
    "txservices": {COMPLETED_PAYMENT: _txservices_completed},
    "paylican": {COMPLETED_PAYMENT: _paylican_completed},
}


def build_pact_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["sandbox"])

    @router.post("/_sandbox/pact/{gateway}/state")
    def change_state(gateway: str, change: StateChange) -> dict[str, Any]:
        makers = MAKERS.get(gateway)
        if makers is None:
            raise HTTPException(404, f"no gateway {gateway!r} in this sandbox")
        maker = makers.get(change.state)
        if maker is None:
            raise HTTPException(
                404, f"{gateway} knows no provider state {change.state!r}; known: {sorted(makers)}"
            )
        if change.action == "teardown":
            return {}
        return maker(state, change.params)

    return router
