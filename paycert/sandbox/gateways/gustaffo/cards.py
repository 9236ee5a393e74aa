"""The seed's test cards and what each one does on the hosted page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

COMPLETED = "COMPLETED"
FAILED = "FAILED"
CHALLENGE = "CHALLENGE"


@dataclass(frozen=True)
class TestCard:
    __test__ = False  # not a pytest test class

    brand: str
    # paycert's decision: the seed gives every card the password `password1` but says nothing about when a
    # challenge happens, so the Mastercard always challenges and the Visa and Amex are frictionless.
    challenge: bool


TEST_CARDS: dict[str, TestCard] = {
    "4111111111111111": TestCard("VISA", challenge=False),
    "5555555555554444": TestCard("MASTERCARD", challenge=True),
    "378282246310005": TestCard("AMEX", challenge=False),
}
CHALLENGE_PASSWORD = "password1"

# The same patterns as the spec's PaymentForm: 12-19 digits (single spaces between them allowed), MM/YY or
# MM/YYYY, a 3 or 4 digit CVV. [0-9], not \d: \d also matches other scripts' digits.
_NUMBER = re.compile(r"[0-9](?: ?[0-9]){11,18}")
_EXPIRY = re.compile(r"(0[1-9]|1[0-2]) ?/ ?([0-9]{2}|[0-9]{4})")
_CVV = re.compile(r"[0-9]{3,4}")


class CardInputError(ValueError):
    """What the shopper typed cannot be a card: the form is shown again with this message."""


@dataclass(frozen=True)
class CardEntry:
    number: str
    expiry_month: int
    expiry_year: int

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        card = TEST_CARDS.get(self.number)
        return card.brand if card else "UNKNOWN"


def read_card(number: str, expiry: str, cvv: str) -> CardEntry:
    """Check the form's shape (digits, MM/YY or MM/YYYY, CVV); raises CardInputError with a shopper message."""
    if not _NUMBER.fullmatch(number):
        raise CardInputError("Enter a card number of 12 to 19 digits.")
    digits = number.replace(" ", "")
    match = _EXPIRY.fullmatch(expiry)
    if not match:
        raise CardInputError("Enter the expiry date as MM/YY.")
    if not _CVV.fullmatch(cvv):
        raise CardInputError("Enter the 3 or 4 digit security code.")
    year = int(match.group(2))
    return CardEntry(
        number=digits, expiry_month=int(match.group(1)), expiry_year=year + 2000 if year < 100 else year
    )


def outcome(card: CardEntry, now: float) -> str:
    """COMPLETED, FAILED or CHALLENGE: unknown and expired cards fail (the seed's 4111… with 01/23 fails)."""
    today = datetime.fromtimestamp(now, UTC)
    known = TEST_CARDS.get(card.number)
    if known is None or (card.expiry_year, card.expiry_month) < (today.year, today.month):
        return FAILED
    return CHALLENGE if known.challenge else COMPLETED
