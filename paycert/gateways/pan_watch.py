"""Full card numbers in what gateways answer (SEC-PAN-ECHO): found, and kept only as first 6 / last 4.

A response may never carry a full card number (002 §2.2, PCI DSS). Two ways to find one: the run's known
test cards, wherever they appear (with or without separators), and any Luhn-valid run of 13 to 19 digits
that starts like a card (2 to 6: Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay).
Ids and timestamps are digit runs too: a 13-digit millisecond timestamp starts with 1 and is never taken
for a card; a run glued to more digits (longer than 19) is not one either, and nor is a run glued to letters:
a random hex id (`pay_3f9a...`) holds 13 digits in a row often enough, and one in ten of those is Luhn-valid,
which made a correct gateway fail now and then. A card number stands on its own: quoted, or between spaces or
punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from paycert.redaction import luhn_valid, mask_pan

# 13-19 digits, optionally in groups split by one space or dash, not inside a longer run of digits or letters.
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[2-6](?:[ -]?[0-9]){12,18}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class PanSighting:
    """A full card number seen in a response: where, and the number as first 6 / last 4 only."""

    url: str  # redacted
    masked: str
    label: str = ""

    def describe(self) -> str:
        return f"{self.masked} in the answer to {self.label or 'a request'} ({self.url})"


@dataclass
class PanWatch:
    """The card numbers seen in this run's responses (the HTTP seam shows it every body it reads)."""

    known: set[str] = field(default_factory=set)
    sightings: list[PanSighting] = field(default_factory=list)

    def know(self, numbers: Iterable[str]) -> None:
        """Card numbers the run uses (the profiles' test cards): found even where they fail Luhn."""
        self.known.update(n for n in (re.sub(r"\D", "", str(x)) for x in numbers) if len(n) >= 13)

    def look(self, text: str, *, url: str, label: str = "") -> list[PanSighting]:
        """Record and return every full card number in `text` (each number once per response)."""
        found = [PanSighting(url, masked, label) for masked in sorted(card_numbers_in(text, self.known))]
        self.sightings.extend(found)
        return found


def card_numbers_in(text: str, known: Iterable[str] = ()) -> set[str]:
    """The full card numbers in `text`, masked (first 6 / last 4)."""
    masked: set[str] = set()
    digits_only = re.sub(r"[ -](?=[0-9])", "", text)
    for number in known:
        if number in digits_only:
            masked.add(mask_pan(number))
    for match in _CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            masked.add(mask_pan(digits))
    return masked
