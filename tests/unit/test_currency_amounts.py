"""Amounts written and read with their currency's exponent (issue 16): what the client sends for 1 JPY, 1.001 KWD
and 0.01 EUR in each of the three formats a profile can name, and how it reads them back. EUR keeps the
behaviour every scenario relies on ("10.00", 10.0, 1000)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from paycert.gateways import amounts
from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder
from paycert.redaction import Redactor
from paycert.targets.profile import Currency, Profile, load_profile
from paycert.targets.target import GatewayTarget

REPO = Path(__file__).resolve().parents[2]
KESTREL = REPO / "tests" / "fifth_gateway" / "profile.yaml"  # minor units, no `currencies`


def client_for(profile: Profile, *, live: bool = False) -> GatewayClient:
    target = GatewayTarget(
        id=profile.id,
        profile=profile,
        base_url="http://127.0.0.1:9",
        environment="live" if live else "sandbox",
    )
    return GatewayClient(target, Recorder(Redactor([])))


@pytest.mark.parametrize(
    ("amount", "decimals", "number", "string", "minor"),
    [
        ("1", 0, 1, "1", 1),
        ("1.001", 3, 1.001, "1.001", 1001),
        ("0.01", 2, 0.01, "0.01", 1),
        ("10.5", 2, 10.5, "10.50", 1050),
        ("1.5", 0, 2, "2", 2),  # rounded half-up to the currency's unit
        ("1.0005", 3, 1.001, "1.001", 1001),
    ],
)
def test_an_amount_is_written_with_its_currencys_decimals(
    amount: str, decimals: int, number: float, string: str, minor: int
) -> None:
    value = Decimal(amount)

    assert amounts.write(value, amounts.NUMBER, decimals) == number
    assert amounts.write(value, amounts.DECIMAL_STRING, decimals) == string
    assert amounts.write(value, amounts.MINOR_UNITS, decimals) == minor


def test_a_yen_amount_is_a_json_integer() -> None:
    assert isinstance(amounts.write(Decimal(1), amounts.NUMBER, 0), int)
    assert isinstance(amounts.write(Decimal(1), amounts.NUMBER, 2), float)


@pytest.mark.parametrize(
    ("written", "fmt", "decimals", "read"),
    [
        (1, amounts.MINOR_UNITS, 0, Decimal(1)),
        (1001, amounts.MINOR_UNITS, 3, Decimal("1.001")),
        (1050, amounts.MINOR_UNITS, 2, Decimal("10.50")),
        ("1.001", amounts.DECIMAL_STRING, 3, Decimal("1.001")),
        (100, amounts.NUMBER, 0, Decimal(100)),
        (0.01, amounts.NUMBER, 2, Decimal("0.01")),
        ("not a number", amounts.NUMBER, 2, None),
        (True, amounts.NUMBER, 2, None),
        ("NaN", amounts.DECIMAL_STRING, 2, None),
        (None, amounts.NUMBER, 2, None),
    ],
)
def test_an_amount_is_read_back_in_major_units(
    written: object, fmt: str, decimals: int, read: Decimal | None
) -> None:
    assert amounts.read(written, fmt, decimals) == read


def test_more_decimals_than_a_currency_has_are_written_as_they_are_where_the_format_can() -> None:
    assert amounts.write_unrounded(Decimal("1.5"), amounts.NUMBER) == 1.5
    assert amounts.write_unrounded(Decimal("1.0015"), amounts.DECIMAL_STRING) == "1.0015"
    assert amounts.write_unrounded(Decimal("0.015"), amounts.MINOR_UNITS) is None


@pytest.mark.parametrize(("written", "decimals"), [("10.00", 2), ("1", 0), ("1.001", 3), ("-5.5", 1)])
def test_the_decimals_a_string_is_written_with_are_counted(written: str, decimals: int) -> None:
    assert amounts.written_decimals(written) == decimals


@pytest.mark.parametrize("written", ["ten", "1.", "1.x", 10, None])
def test_what_is_not_a_decimal_string_has_no_decimals_count(written: object) -> None:
    assert amounts.written_decimals(written) is None


def test_a_profile_lists_its_currencies_and_falls_back_to_its_decimals() -> None:
    profile = load_profile("txservices")

    assert profile.currencies == [Currency("EUR", 2), Currency("JPY", 0), Currency("KWD", 3)]
    assert [profile.decimals_for(c) for c in ("JPY", "KWD", "EUR", "USD", None)] == [0, 3, 2, 2, 2]


def test_a_profile_without_currencies_pays_in_eur_with_its_decimals() -> None:
    profile = load_profile(KESTREL)

    assert "currencies" not in profile.raw
    assert profile.currencies == [Currency("EUR", 2)]


@pytest.mark.parametrize(
    ("currency", "amount", "sent", "decimal", "minor"),
    [
        ("EUR", "10", "10.00", "10.00", 1000),
        ("JPY", "1", "1", "1", 1),
        ("KWD", "1.001", "1.001", "1.001", 1001),
    ],
)
def test_the_client_writes_a_payments_amount_in_its_currency(
    currency: str, amount: str, sent: str, decimal: str, minor: int
) -> None:
    client = client_for(load_profile("txservices"))

    context = client.new_context(amount, currency=currency)

    assert (context["amount"], context["amount_decimal"], context["amount_minor"]) == (sent, decimal, minor)
    assert client.parse_amount(context["amount"], currency) == Decimal(amount)


def test_the_client_reads_minor_units_with_the_currencys_exponent() -> None:
    listed = load_profile(KESTREL)
    profile = replace(
        listed,
        raw={**listed.raw, "currencies": [{"code": "EUR", "exponent": 2}, {"code": "JPY", "exponent": 0}]},
    )
    client = client_for(profile)

    assert client.format_amount("1", "JPY") == 1
    assert client.format_amount("10.5", "EUR") == 1050
    assert client.parse_amount(100, "JPY") == Decimal(100)
    assert client.parse_amount(100, "EUR") == Decimal(1)
    assert client.format_unrounded("1.5") is None


def test_a_live_client_caps_an_unrounded_amount_too() -> None:
    client = client_for(load_profile("gustaffo"), live=True)

    assert client.format_unrounded("1.5") == 1.0  # live.max_amount: 1.0
    assert client.format_unrounded("0.015") == 0.015
