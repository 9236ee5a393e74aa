"""Starting a card or wallet payment and deciding its first outcome: the core of create, pay-with-token and
recurring REPEATED."""

from __future__ import annotations

from typing import Any

from paycert.sandbox.gateways.txservices import cards
from paycert.sandbox.gateways.txservices.ledger import Doc, Ledger
from paycert.sandbox.gateways.txservices.validation import Card

WALLET_MODE = "EW"
# The brand reported when the faults charge a card nobody named (see `unverified`).
UNVERIFIED_BRAND = "VISA"
CARD_MODES = frozenset({"CC", "DC"})


def start(
    ledger: Ledger,
    *,
    card: Card | None,
    challenge_allowed: bool = True,
    tokenize_brand: str | None = None,
    **fields: Any,
) -> Doc:
    """Create the payment and run it as far as it goes without the account holder.

    A card decides at once (Y or N) or asks for 3-D Secure (3D, ACS page); a wallet payment waits for the
    account holder's confirmation (P, confirm page). `challenge_allowed=False` is a merchant-initiated
    payment (recurring REPEATED), which is never challenged.
    """
    doc = ledger.new_payment(**fields)
    if card is None:
        return ledger.open_payment(
            doc, "P", "confirm", "Transaction pending: the account holder must confirm"
        )
    doc["card"] = card.public()
    if ledger.state.faults.active("echo-pan"):
        doc["card"]["number"] = card.number  # the fault: the full card number in every answer of it
    outcome = cards.decide(card, ledger.now())
    if outcome.decision == "declined":
        return ledger.fail(doc, outcome.reason)
    if tokenize_brand is not None:
        doc["registrationId"] = ledger.register(card, tokenize_brand, doc["merchantTransactionId"])["id"]
    if doc.get("recurringType") == "INITIAL":
        doc["vault"] = ledger.register(card, doc["paymentBrand"], doc["merchantTransactionId"])["id"]
    if outcome.decision == "challenge" and challenge_allowed and not ledger.state.faults.active("skip-3ds"):
        return ledger.open_payment(
            doc, "3D", "acs", "Transaction pending: 3-D Secure authentication required"
        )
    return ledger.succeed(doc)


def unverified(ledger: Ledger, *, card: dict[str, str] | None, **fields: Any) -> Doc:
    """Charge at once, with no card on file to decide the outcome.

    Only the faults `orphan-recurring` (a REPEATED payment without a successful INITIAL) and
    `token-not-checked` (an unknown registration id) come here: a correct gateway refuses both requests.
    `card` is the public part of a card the sandbox happens to know, if any.
    """
    doc = ledger.new_payment(card=dict(card) if card else None, **fields)
    return ledger.succeed(doc)
