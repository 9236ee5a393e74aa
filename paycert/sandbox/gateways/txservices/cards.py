"""What each sandbox test card does (written in the profile and the spec)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paycert.sandbox.gateways.txservices.validation import Card

Decision = Literal["success", "declined", "challenge"]

SUCCESS_CARDS = frozenset({"4111111111111111", "370000000000002"})
CHALLENGE_CARDS = frozenset({"5549110920049586"})
DECLINED_CARDS = frozenset({"4000000000000002"})


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    reason: str


def decide(card: Card, now: float) -> Outcome:
    """Expired cards are declined; the listed cards do what the profile says; any other card is declined."""
    if card.expired(now):
        return Outcome("declined", "Card expired")
    if card.number in CHALLENGE_CARDS:
        return Outcome("challenge", "3-D Secure authentication required")
    if card.number in SUCCESS_CARDS:
        return Outcome("success", "Transaction succeeded")
    if card.number in DECLINED_CARDS:
        return Outcome("declined", "Do not honour")
    return Outcome("declined", "Card not known to the sandbox")
