"""Payments and registrations in the sandbox store, their public view, and the transitions that end them.

Every transition to a final state (and every back-office change) goes through `finish` (a payment being
created) or `transition` (a stored one), which save the payment and queue its callback: no path can change a
payment without telling the merchant. `transition` is the store's atomic check-and-update, so two captures,
two refunds, or a page submission and the expiry sweep cannot both pass a check on the same state.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from paycert.sandbox import currencies
from paycert.sandbox.gateways.txservices import callbacks, codes
from paycert.sandbox.gateways.txservices.codes import ApiError
from paycert.sandbox.gateways.txservices.http import timestamp
from paycert.sandbox.gateways.txservices.validation import Card
from paycert.sandbox.state import SandboxState
from paycert.sandbox.store import new_id

PAYMENT = "txservices.payment"
REGISTRATION = "txservices.registration"
# Waiting for 3-D Secure or the account holder: such a payment expires, the others are final.
OPEN_STATES = frozenset({"3D", "P"})

EXPIRY_SECONDS = 30 * 60
PREFIX = "/txservices"

Doc = dict[str, Any]
Failure = Literal["declined", "authentication_failed"]
# Checks a stored payment and marks its new state (`Ledger.mark`); False leaves it as it is, ApiError refuses.
Change = Callable[[Doc], bool]


def _due(doc: Doc) -> float | None:
    return float(doc["createdAt"]) + EXPIRY_SECONDS if doc["transactionStatus"] in OPEN_STATES else None


class Ledger:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        # The expiry sweep finds open payments by an index on their deadline, not by reading them all.
        state.store.index_due(PAYMENT, _due)

    def now(self) -> float:
        return self.state.clock.now()

    def stamp(self) -> str:
        return timestamp(self.now())

    # -- payments -------------------------------------------------------------------------------------------
    def new_payment(self, **fields: Any) -> Doc:
        now = self.now()
        doc: Doc = {
            "id": str(100000000000 + secrets.randbelow(900000000000)),  # numeric tracking id
            "kind": "payment",
            "card": None,
            "capturedAmount": "0.00",
            "refundedAmount": "0.00",
            "refunds": 0,
            "recurringType": None,
            "parentPaymentId": None,
            "registrationId": None,
            "vault": None,
            "notificationUrl": None,
            "merchantRedirectUrl": None,
            "page": None,
            "createdAt": now,
            "updatedAt": now,
        }
        doc.update(fields)
        if doc.get("currency"):
            # Nothing captured or refunded yet, written in the currency's own decimals ("0" JPY, "0.000" KWD).
            zero = currencies.text(Decimal(0), str(doc["currency"]))
            doc["capturedAmount"] = fields.get("capturedAmount", zero)
            doc["refundedAmount"] = fields.get("refundedAmount", zero)
        return doc

    def find(self, payment_id: str) -> Doc | None:
        return self.state.store.get(PAYMENT, payment_id)

    def get(self, payment_id: str) -> Doc:
        doc = self.find(payment_id)
        if doc is None:
            raise ApiError(404, codes.NOT_FOUND, f"Payment not found: no payment with paymentId {payment_id}")
        return doc

    def save(self, doc: Doc) -> Doc:
        doc["updatedAt"] = self.now()
        self.state.store.put(PAYMENT, doc["id"], doc)
        return doc

    def open_payment(self, doc: Doc, transaction_status: str, page: str, description: str) -> Doc:
        doc.update(
            transactionStatus=transaction_status,
            status="authstarted_3D" if transaction_status == "3D" else "authstarted",
            page=page,
            result={"code": codes.PENDING, "description": description},
        )
        return self.save(doc)

    @staticmethod
    def mark(doc: Doc, transaction_status: str, status: str, code: str, description: str) -> None:
        """Set the payment's new state (not saved: `finish` and `transition` save it)."""
        doc.update(
            transactionStatus=transaction_status,
            status=status,
            page=None,
            result={"code": code, "description": description},
        )

    @staticmethod
    def mark_succeeded(doc: Doc, description: str = "Transaction succeeded") -> None:
        """A debit is captured at once; a preauthorization is only authorized."""
        if doc["paymentType"] == "DB":
            doc["capturedAmount"] = doc["amount"]
            Ledger.mark(doc, "Y", "capturesuccess", codes.SUCCEEDED, description)
        else:
            Ledger.mark(doc, "Y", "authsuccessful", codes.SUCCEEDED, description)

    @staticmethod
    def mark_failed(doc: Doc, reason: str, failure: Failure = "declined") -> None:
        """`failure` tells a card refused by its issuer from a failed 3-D Secure authentication: both read
        N/authfailed, but the wrong-status fault lies about declines only."""
        doc["failure"] = failure
        Ledger.mark(doc, "N", "authfailed", codes.FAILED, f"Transaction failed: {reason}")

    def finish(self, doc: Doc, transaction_status: str, status: str, code: str, description: str) -> Doc:
        """End a payment being created (not stored yet, so nobody else can change it): save, call back."""
        self.mark(doc, transaction_status, status, code, description)
        return self._saved_and_told(doc)

    def succeed(self, doc: Doc, description: str = "Transaction succeeded") -> Doc:
        self.mark_succeeded(doc, description)
        return self._saved_and_told(doc)

    def fail(self, doc: Doc, reason: str, failure: Failure = "declined") -> Doc:
        self.mark_failed(doc, reason, failure)
        return self._saved_and_told(doc)

    def _saved_and_told(self, doc: Doc) -> Doc:
        with self.state.store.lock:  # one batch: no commit between the payment and its callback
            self.save(doc)
            callbacks.send(self.state, doc, self.stamp())
        return doc

    def transition(self, payment_id: str, change: Change) -> Doc | None:
        """Change a stored payment in one atomic check-and-update, then queue its callback.

        None when the payment is unknown or `change` left it as it is; an ApiError from `change` refuses the
        operation with nothing written.
        """

        def apply(doc: Doc) -> Doc | None:
            if not change(doc):
                return None
            doc["updatedAt"] = self.now()
            return doc

        with self.state.store.lock:  # one batch: no commit between the payment and its callback
            doc = self.state.store.update(PAYMENT, payment_id, apply)
            if doc is not None:
                callbacks.send(self.state, doc, self.stamp())
        return doc

    def expire_due(self) -> None:
        """Payments left in 3D or P for 30 minutes on the test clock are cancelled as expired."""

        def expire(doc: Doc) -> bool:
            if doc["transactionStatus"] not in OPEN_STATES:
                return False  # finished by the account holder since the index was read
            self.mark(
                doc,
                "C",
                "expired",
                codes.CANCELLED,
                "Cancelled: the payment was not completed within 30 minutes",
            )
            return True

        for payment_id in self.state.store.due(PAYMENT, self.now()):
            self.transition(payment_id, expire)

    # -- registrations (tokens) -----------------------------------------------------------------------------
    def register(self, card: Card, brand: str, merchant_transaction_id: str | None) -> Doc:
        doc: Doc = {
            "id": new_id("reg_", 10),
            "number": card.number,  # the sandbox's vault: never logged, never returned
            "expiryMonth": card.expiry_month,
            "expiryYear": card.expiry_year,
            "paymentBrand": brand,
            "merchantTransactionId": merchant_transaction_id,
            "createdAt": self.now(),
        }
        self.state.store.put(REGISTRATION, doc["id"], doc)
        return doc

    def find_registration(self, registration_id: str) -> Doc | None:
        return self.state.store.get(REGISTRATION, registration_id)

    def registration(self, registration_id: str) -> Doc:
        doc = self.find_registration(registration_id)
        if doc is None:
            raise ApiError(404, codes.NOT_FOUND, f"Registration not found: no registration {registration_id}")
        return doc

    @staticmethod
    def card_of(registration: Doc) -> Card:
        return Card(registration["number"], registration["expiryMonth"], registration["expiryYear"])

    # -- views ----------------------------------------------------------------------------------------------
    def view(self, doc: Doc, base_url: str) -> Doc:
        """The payment as create, back-office and inquiry answers show it."""
        id_field = "id" if self.state.faults.active("schema-drift") else "paymentId"
        out: Doc = {
            id_field: doc["id"],
            "merchantTransactionId": doc["merchantTransactionId"],
            "paymentType": doc["paymentType"],
            "paymentMode": doc["paymentMode"],
            "paymentBrand": doc["paymentBrand"],
            "amount": doc["amount"],
            "currency": doc["currency"],
            "status": doc["status"],
            "transactionStatus": doc["transactionStatus"],
            "result": dict(doc["result"]),
        }
        if doc["kind"] == "payment":
            out["capturedAmount"] = doc["capturedAmount"]
            out["refundedAmount"] = doc["refundedAmount"]
        if doc.get("card"):
            out["card"] = dict(doc["card"])
        for name in (
            "recurringType",
            "mandateType",  # what an INITIAL set up (paycert's decision; see mandates.py)
            "parentPaymentId",
            "registrationId",
            "orderDescriptor",
            "refundId",
            "invoiceId",  # a payment made through an invoice's payment link (invoices.py)
        ):
            if doc.get(name):
                out[name] = doc[name]
        if doc.get("page") and doc["transactionStatus"] in OPEN_STATES:
            out["redirect"] = {
                "url": f"{base_url}{PREFIX}/{doc['page']}/{doc['id']}",
                "method": "GET",
                "parameters": [{"name": "paymentId", "value": doc["id"]}],
            }
        out["timestamp"] = self.stamp()
        return out


def remaining(doc: Doc) -> Decimal:
    return Decimal(doc["capturedAmount"]) - Decimal(doc["refundedAmount"])
