"""The sandbox's test cards and what each one does (listed in `specs/paylican/profile.yaml`).

Paylican has no 3-D Secure: a card is either paid or declined at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

APPROVED = frozenset({"4111111111111111", "5555555555554444"})
DECLINED = {"4000000000000002": "DECLINED", "4000000000009995": "INSUFFICIENT_FUNDS"}


@dataclass(frozen=True)
class CardEntry:
    number: str
    expiry_month: int
    expiry_year: int
    cvv: str


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def read_form(number: str, month: str, year: str, cvv: str) -> CardEntry | str:
    """The card as entered, or the message the page shows when it cannot be a card."""
    number = number.replace(" ", "")
    if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn_ok(number)):
        return "The card number is not valid."
    if not (month.isdigit() and 1 <= int(month) <= 12):
        return "The expiry month is not valid."
    if not (year.isdigit() and len(year) in (2, 4)):
        return "The expiry year is not valid."
    if not (cvv.isdigit() and len(cvv) in (3, 4)):
        return "The security code is not valid."
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return CardEntry(number=number, expiry_month=int(month), expiry_year=full_year, cvv=cvv)


def decline_reason(card: CardEntry, now: float) -> str | None:
    """None when the card pays; else why it is declined (a card not listed above is declined too)."""
    today = datetime.fromtimestamp(now, tz=UTC)
    if (card.expiry_year, card.expiry_month) < (today.year, today.month):
        return "EXPIRED_CARD"
    if card.number in APPROVED:
        return None
    return DECLINED.get(card.number, "DECLINED")
