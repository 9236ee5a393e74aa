"""One page model for both shoppers: a button is looked for in its form first, then anywhere on the page.

Checkout-session gateways put the cancel button in a form of its own beside the payment form; the HTTP
shopper and the browser must both find it there and send that form, not the payment form.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from paycert.shopper import BrowserShopper, HttpShopper, PageSpec, ShopperDriver
from tests.shopper.conftest import PagesServer

TWO_FORMS = PageSpec.from_profile(
    {
        "kind": "hosted-page",
        "form": "#payform",
        "fields": {"cardNumber": "{card.number}", "expiry": "{card.expiry}", "cvc": "{card.cvv}"},
        "submit": "button[name=action][value=pay]",
        "cancel": "#cancel-button",
    }
)


@pytest.fixture(params=["http", "browser"])
def shopper(request: pytest.FixtureRequest) -> Iterator[ShopperDriver]:
    if request.param == "http":
        with HttpShopper() as http:
            yield http
        return
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium)")
    browser: BrowserShopper = request.getfixturevalue("browser")
    yield browser


def test_a_cancel_button_in_a_form_of_its_own_is_found_and_sends_its_own_form(
    shopper: ShopperDriver, pages: PagesServer
) -> None:
    outcome = shopper.cancel(f"{pages.base_url}/twoforms/t1", TWO_FORMS, return_prefix=pages.return_url)

    assert outcome.landed
    assert outcome.return_query["status"] == "CANCELLED"
    assert pages.submissions["t1/abandon"] == [("session", "s3ss10n-hidden")]
