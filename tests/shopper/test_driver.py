"""The shopper's data: cards, field templates, page specs from a profile, redacted URLs, the public API."""

from __future__ import annotations

import pytest

import paycert.shopper
from paycert.shopper import Card, ChallengeSpec, PageSpec, ShopperError, template_value
from paycert.shopper.journey import Journey
from paycert.shopper.urls import return_query

CARD = Card.from_profile(
    {
        "number": "4000000000003220",
        "brand": "visa",
        "expiry_month": "03",
        "expiry_year": "2031",
        "cvv": "737",
        "outcome": "CHALLENGE",
        "description": "3-D Secure",
    }
)


def test_public_api() -> None:
    assert sorted(paycert.shopper.__all__) == [
        "BrowserShopper",
        "Card",
        "ChallengeSpec",
        "HttpShopper",
        "PageSpec",
        "ShopperDriver",
        "ShopperError",
        "ShopperOutcome",
        "UnsupportedSelectorError",
        "template_value",
    ]


def test_card_from_profile_and_expiry() -> None:
    assert CARD.expiry == "03/31"
    assert CARD.holder == "Test Shopper"
    assert CARD.brand == "visa"


def test_card_repr_hides_number_and_cvv() -> None:
    for text in (repr(CARD), str(CARD), f"{CARD}", repr([CARD])):
        assert "4000000000003220" not in text
        assert "737" not in text
        assert "400000******3220" in text


def test_card_entry_without_number() -> None:
    with pytest.raises(ShopperError, match="no 'number'"):
        Card.from_profile({"expiry_month": "01", "expiry_year": "2030"})


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{card.number}", "4000000000003220"),
        ("{card.expiry}", "03/31"),
        ("{card.expiry_month}/{card.expiry_year}", "03/2031"),
        ("{card.cvv}", "737"),
        ("{card.holder}", "Test Shopper"),
        ("{card.brand}", "visa"),
        ("fixed", "fixed"),
    ],
)
def test_template_value(template: str, value: str) -> None:
    assert template_value(template, CARD) == value


def test_template_value_unknown_placeholder() -> None:
    with pytest.raises(ShopperError, match=r"unknown placeholder \{card.pin\}"):
        template_value("{card.pin}", CARD)
    assert template_value("{reference}", CARD, {"reference": "order-1"}) == "order-1"


def test_specs_from_profile_sections() -> None:
    page = PageSpec.from_profile({"kind": "hosted-page", "fields": {"pan": "{card.number}"}})
    assert page == PageSpec(
        form=None, fields={"pan": "{card.number}"}, submit="button[name=action][value=pay]"
    )
    assert ChallengeSpec.from_profile(None) is None
    assert ChallengeSpec.from_profile({"password": "x"}) == ChallengeSpec(None, "password", None, None)
    challenge = ChallengeSpec.from_profile(
        {"password": "x", "form": "#c", "password_field": "otp", "submit": "#ok"}
    )
    assert challenge == ChallengeSpec("#c", "otp", "#ok", None)


def test_journey_redacts_what_it_types_and_tokens() -> None:
    journey = Journey(PageSpec(None, {}), password="hunter22", card=CARD)
    url = "https://gw.test/pay/1?token=abc123&paymentId=p1&n=x4000000000003220x&pw=hunter22"

    redacted = journey.redact(url)

    assert "abc123" not in redacted
    assert "4000000000003220" not in redacted
    assert "hunter22" not in redacted
    assert "paymentId=p1" in redacted


def test_return_query_keeps_first_value() -> None:
    assert return_query("http://m.test/r?status=OK&status=KO&id=&x=%20") == {
        "status": "OK",
        "id": "",
        "x": " ",
    }
