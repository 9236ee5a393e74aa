"""Amounts the way a gateway writes them (profile `amounts.format`), with the decimals of their currency.

A profile says how amounts are written (a JSON number, a decimal string, an integer of minor units); how many
decimals they have is the currency's: its ISO 4217 exponent from the profile's `currencies` (2 for EUR, 0 for
JPY, 3 for KWD), `amounts.decimals` for a currency the profile does not list. One place for both directions,
so that what the client sends and what it reads back cannot disagree on a currency's exponent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

NUMBER = "number"
DECIMAL_STRING = "decimal-string"
MINOR_UNITS = "minor-units"


def quantum(decimals: int) -> Decimal:
    """The currency's minor unit in major units: 0.01 for two decimals, 1 for none."""
    return Decimal(1).scaleb(-decimals)


def rounded(amount: Decimal, decimals: int) -> Decimal:
    """`amount` rounded half-up to `decimals` (1.5 JPY is 2 JPY, 1.0005 KWD is 1.001 KWD)."""
    return amount.quantize(quantum(decimals), rounding=ROUND_HALF_UP)


def write(amount: Decimal, fmt: str, decimals: int) -> Any:
    """`amount` (major units) as the gateway writes it, rounded half-up to the currency's decimals:
    10.5 EUR is 10.5, "10.50" or 1050; 1 JPY is 1, "1" or 1; 1.001 KWD is 1.001, "1.001" or 1001."""
    value = rounded(amount, decimals)
    if fmt == DECIMAL_STRING:
        return f"{value:.{decimals}f}"
    if fmt == MINOR_UNITS:
        return int(value.scaleb(decimals))
    # A JSON number: an integer where the currency has no decimals, so 1 JPY is not written 1.0.
    return int(value) if decimals == 0 else float(value)


def write_unrounded(amount: Decimal, fmt: str) -> Any:
    """`amount` with every decimal it has, in the gateway's format: to offer a gateway more decimals than the
    currency allows (0.015 EUR, 1.5 JPY). None for a format that cannot carry them (integer minor units)."""
    if fmt == MINOR_UNITS:
        return None
    if fmt == DECIMAL_STRING:
        return f"{amount:f}"
    return float(amount)


def read(value: Any, fmt: str, decimals: int) -> Decimal | None:
    """An amount as the gateway wrote it, in major units; None if it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not parsed.is_finite():
        return None
    return parsed.scaleb(-decimals) if fmt == MINOR_UNITS else parsed


def written_decimals(value: Any) -> int | None:
    """How many decimals a decimal string is written with ("10.50" has two, "1" none); None for other values."""
    if not isinstance(value, str):
        return None
    whole, point, fraction = value.strip().partition(".")
    if not whole.lstrip("-").isdigit() or (point and not fraction.isdigit()):
        return None
    return len(fraction)
