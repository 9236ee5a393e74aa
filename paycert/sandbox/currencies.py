"""Currencies of the sandbox's gateways: each amount in its ISO 4217 minor unit (issue 16).

One table for every gateway that takes a currency (gustaffo, txservices): a gateway that wrote every amount with
two decimals would charge 100 JPY for 1 JPY or lose the third decimal of a KWD amount, the mistakes PAY-CURRENCY
certifies against. The `jpy-scaled` fault is that mistake, made on purpose: JPY amounts are stored as if JPY had
two decimals (1 JPY kept as 100 minor units) and read back with its real exponent (100 JPY).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from paycert.sandbox.faults import Faults

# ISO 4217 minor-unit exponents of the currencies the sandbox knows. A code that is not here but has the shape of
# one (three capital letters) is taken as a two-decimal currency, as the gateways did before they knew exponents:
# the specs describe currencies by that shape only, and a generated request with such a code must still pass.
EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}
DEFAULT_EXPONENT = 2
SCALED_CURRENCY = "JPY"  # the currency the `jpy-scaled` fault gets wrong
_SCALED_EXPONENT = 2  # ... as if it had two decimals


def exponent(currency: str) -> int:
    """How many decimals the currency's amounts have (ISO 4217)."""
    return EXPONENTS.get(currency, DEFAULT_EXPONENT)


def stored_exponent(currency: str, faults: Faults) -> int:
    """The exponent amounts are stored with: the currency's own, but two for JPY under `jpy-scaled`."""
    if currency == SCALED_CURRENCY and faults.active("jpy-scaled"):
        return _SCALED_EXPONENT
    return exponent(currency)


def decimals_of(amount: Decimal) -> int:
    """How many decimals an amount is written with, trailing zeros included ("10.50" has two, "10" none)."""
    power = amount.as_tuple().exponent
    return -power if isinstance(power, int) and power < 0 else 0


def to_minor(amount: Decimal, currency: str, faults: Faults) -> int:
    """`amount` (major units, already checked) in minor units as stored, rounded half-up to the last one."""
    places = stored_exponent(currency, faults)
    return int(amount.scaleb(places).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    """Stored minor units back to major units, with the currency's real exponent (so a scaled amount shows)."""
    return Decimal(minor).scaleb(-exponent(currency))


def text(amount: Decimal, currency: str) -> str:
    """An amount written with exactly the currency's decimals: "10.00" EUR, "1" JPY, "1.001" KWD."""
    places = exponent(currency)
    return f"{amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"


def stored_text(amount: Decimal, currency: str, faults: Faults) -> str:
    """A checked amount as a gateway that stores decimal strings keeps it: its own text, except that under
    `jpy-scaled` a JPY amount is kept as its count of (wrong) minor units, "1" JPY as "100"."""
    if stored_exponent(currency, faults) == exponent(currency):
        return text(amount, currency)
    return text(Decimal(to_minor(amount, currency, faults)), currency)


def shown(minor: int, currency: str) -> str:
    """Stored minor units as a page shows them: "10.00" EUR, "1" JPY."""
    return text(from_minor(minor, currency), currency)
