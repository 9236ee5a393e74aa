"""Checks of the parameters shared by every money movement: amount, currency, merchant, card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from paycert.sandbox import currencies
from paycert.sandbox.faults import Faults
from paycert.sandbox.gateways.txservices import checksum
from paycert.sandbox.gateways.txservices.codes import CHECKSUM_MISMATCH, INVALID_AMOUNT, ApiError, invalid
from paycert.sandbox.gateways.txservices.credentials import MEMBER_ID, TERMINAL_ID
from paycert.sandbox.gateways.txservices.http import Params, require

_AMOUNT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
BRANDS = frozenset({"VISA", "MC", "AMEX", "MAESTRO", "JCB", "CUP", "DINERS", "DISC"})


def amount(value: str, faults: Faults, currency: str | None = None) -> Decimal:
    """Exactly the currency's decimals ("10.00" EUR, "10" JPY, "10.000" KWD; two when the currency is not
    given, as for EUR); zero and negative rejected unless the accept-bad-amount fault is on."""
    places = currencies.exponent(currency) if currency else currencies.DEFAULT_EXPONENT
    if not (_AMOUNT if places == currencies.DEFAULT_EXPONENT else _amount_pattern(places)).match(value):
        raise ApiError(400, INVALID_AMOUNT, _amount_rule(places, currency))
    parsed = Decimal(value)
    if parsed <= 0 and not faults.active("accept-bad-amount"):
        raise ApiError(400, INVALID_AMOUNT, "Invalid amount: the amount must be greater than 0.00")
    return parsed


def _amount_pattern(places: int) -> re.Pattern[str]:
    return re.compile(rf"^-?[0-9]+\.[0-9]{{{places}}}$" if places else r"^-?[0-9]+$")


def _amount_rule(places: int, currency: str | None) -> str:
    """The refusal of a badly written amount; for EUR (and when no currency is given) the seed family's text."""
    if places == 0:
        return f"Invalid amount: {currency} amounts have no decimals, e.g. 10"
    example = f"{10:.{places}f}"
    count = {2: "two", 3: "three"}.get(places, str(places))
    return f"Invalid amount: use a decimal with exactly {count} decimals, e.g. {example}"


def stored(value: str, currency: str, faults: Faults) -> str:
    """A checked amount as the ledger keeps it: as sent, except under the jpy-scaled fault (1 JPY kept as 100)."""
    return currencies.stored_text(Decimal(value), currency, faults)


def currency(value: str) -> str:
    if not _CURRENCY.match(value):
        raise invalid("currency must be an ISO 4217 code of three capital letters, e.g. EUR")
    return value


def merchant(params: Params, *, terminal: bool) -> None:
    if params.get("authentication.memberId") != MEMBER_ID:
        raise invalid("authentication.memberId is not a member of this sandbox")
    if terminal and params.get("authentication.terminalId") != TERMINAL_ID:
        raise invalid("authentication.terminalId is not a terminal of this member")


def verify_checksum(params: Params, expected: str) -> None:
    if not checksum.matches(expected, params.get("authentication.checksum", "")):
        raise ApiError(
            400, CHECKSUM_MISMATCH, "Checksum mismatch: authentication.checksum is not the expected MD5"
        )


def _luhn(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@dataclass(frozen=True)
class Card:
    number: str
    expiry_month: str
    expiry_year: str

    @property
    def bin(self) -> str:
        return self.number[:6]

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def expired(self, now: float) -> bool:
        today = datetime.fromtimestamp(now, UTC)
        return (int(self.expiry_year), int(self.expiry_month)) < (today.year, today.month)

    def public(self) -> dict[str, str]:
        return {"bin": self.bin, "last4Digits": self.last4}


def card(params: Params, *, cvv: bool) -> Card:
    names = ["card.number", "card.expiryMonth", "card.expiryYear"] + (["card.cvv"] if cvv else [])
    require(params, *names)
    number = params["card.number"].replace(" ", "")
    if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn(number)):
        raise invalid("card.number is not a valid card number")
    month, year = params["card.expiryMonth"], params["card.expiryYear"]
    if not re.fullmatch(r"0[1-9]|1[0-2]", month):
        raise invalid("card.expiryMonth must be two digits 01-12")
    if not re.fullmatch(r"[0-9]{4}", year):
        raise invalid("card.expiryYear must be four digits, e.g. 2030")
    if cvv and not re.fullmatch(r"[0-9]{3,4}", params["card.cvv"]):
        raise invalid("card.cvv must be 3 or 4 digits")
    return Card(number, month, year)


def brand(params: Params) -> str:
    value = params.get("paymentBrand", "")
    if value not in BRANDS:
        raise invalid(f"paymentBrand must be one of {', '.join(sorted(BRANDS))}")
    return value
