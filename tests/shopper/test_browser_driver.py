"""The browser shopper: Debian's Chromium fills the same pages (one browser for the session, see conftest)."""

from __future__ import annotations

import os

import pytest

from paycert.shopper import BrowserShopper, Card, ChallengeSpec, PageSpec, ShopperError
from tests.shopper import pages_app
from tests.shopper.conftest import PagesServer
from tests.shopper.png import count_colour

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian's chromium is not installed"),
]

MASK = (0xFF, 0x00, 0xFF)  # Playwright's default mask colour
SUCCESS = Card(pages_app.SUCCESS_CARD, "12", "2030", "123", "Ada Lovelace")
CHALLENGED = Card(pages_app.CHALLENGE_CARD, "12", "2030", "123")
CHALLENGE = ChallengeSpec(
    form="#challenge",
    password_field="password",
    submit="button[name=action][value=submit]",
    cancel="button[name=action][value=cancel]",
)


def test_pays_like_a_person(browser: BrowserShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    outcome = browser.pay(f"{pages.base_url}/start/b1", SUCCESS, pay_page, return_prefix=pages.return_url)

    assert outcome.landed
    assert outcome.return_query == {"paymentId": "b1", "status": "COMPLETED"}
    assert outcome.pages == [
        f"{pages.base_url}/start/b1",
        f"{pages.base_url}/pay/b1?token=***",
        f"{pages.base_url}/pay/b1",
        f"{pages.return_url}?paymentId=b1&status=COMPLETED",
    ]
    # What Chromium posted is what the HTTP shopper posts: same fields, only the pressed button.
    assert pages.submissions["b1"] == [
        ("session", pages_app.SESSION),
        ("cardNumber", pages_app.SUCCESS_CARD),
        ("expiry", "12/30"),
        ("cvc", "123"),
        ("holder", "Ada Lovelace"),
        ("lang", "de"),
        ("action", "pay"),
    ]
    # The page on arrival (nothing typed yet) and the return page.
    assert [p.name.split("-step-")[1] for p in outcome.screenshots] == ["01-payment.png", "02-return.png"]
    for shot in outcome.screenshots:
        assert shot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("password", "status", "spec"),
    [(pages_app.PASSWORD, "COMPLETED", CHALLENGE), ("wrong", "FAILED", ChallengeSpec())],
    ids=["pass", "fail-with-default-selectors"],
)
def test_challenge(
    browser: BrowserShopper,
    pages: PagesServer,
    pay_page: PageSpec,
    password: str,
    status: str,
    spec: ChallengeSpec,
) -> None:
    outcome = browser.pay(
        f"{pages.base_url}/pay/bc-{status}",
        CHALLENGED,
        pay_page,
        challenge=spec,
        password=password,
        return_prefix=pages.return_url,
    )

    assert outcome.challenged
    assert outcome.return_query == {"paymentId": f"bc-{status}", "status": status}
    assert pages.submissions[f"bc-{status}/challenge"] == [("password", password), ("action", "submit")]
    labels = [p.name.split("-step-")[1] for p in outcome.screenshots]
    assert labels == ["01-payment.png", "02-challenge.png", "03-return.png"]


def test_cancel_on_a_page_with_buttons_outside_the_form(
    browser: BrowserShopper, pages: PagesServer, split_page: PageSpec
) -> None:
    outcome = browser.cancel(f"{pages.base_url}/split/bk1", split_page, return_prefix=pages.return_url)

    assert outcome.return_query == {"paymentId": "bk1", "status": "CANCELLED"}
    assert pages.submissions["bk1"][-1] == ("do", "back")


def test_page_without_the_form(browser: BrowserShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    with pytest.raises(ShopperError, match="no payment form matching 'form#payform'"):
        browser.pay(f"{pages.base_url}/blank", SUCCESS, pay_page, return_prefix=pages.return_url)


def test_steps_are_bounded(browser: BrowserShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    # Chromium gives up on the redirect loop itself; the driver turns that into a one-line ShopperError.
    with pytest.raises(ShopperError, match="ERR_TOO_MANY_REDIRECTS") as raised:
        browser.pay(f"{pages.base_url}/loop", SUCCESS, pay_page, return_prefix=pages.return_url)
    assert "\n" not in str(raised.value)


def test_pages_filled_are_bounded(
    browser: BrowserShopper, pages: PagesServer, pay_page: PageSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "max_steps", 1)  # the payment page only: the challenge is one too many
    with pytest.raises(ShopperError, match="within 1 steps"):
        browser.pay(
            f"{pages.base_url}/pay/bb1",
            CHALLENGED,
            pay_page,
            challenge=CHALLENGE,
            password=pages_app.PASSWORD,
            return_prefix=pages.return_url,
        )


def test_challenge_without_a_challenge_spec_stops_unlanded(
    browser: BrowserShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    outcome = browser.pay(f"{pages.base_url}/pay/bs1", CHALLENGED, pay_page, return_prefix=pages.return_url)

    assert not outcome.landed
    assert outcome.final_url == f"{pages.base_url}/challenge/bs1"
    assert outcome.return_query == {}


def test_screenshots_never_show_the_card(
    browser: BrowserShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    """A careless decline page shows the form again with the typed number: the journey stops there, and its
    screenshot masks every input (Playwright paints masks magenta); the arrival one was taken before typing."""
    outcome = browser.pay(f"{pages.base_url}/echo/be1", SUCCESS, pay_page, return_prefix=pages.return_url)

    assert not outcome.landed
    arrival, final = outcome.screenshots
    assert final.name.endswith("-step-02-outcome.png")
    assert count_colour(arrival, MASK) == 0
    assert count_colour(final, MASK) > 1000  # the text inputs, painted over


def test_missing_chromium_is_a_one_line_error(pages: PagesServer, pay_page: PageSpec) -> None:
    with (
        BrowserShopper(executable_path="/nonexistent/chromium") as driver,
        pytest.raises(ShopperError, match="cannot start Chromium at /nonexistent/chromium") as raised,
    ):
        driver.pay(f"{pages.base_url}/pay/m1", SUCCESS, pay_page, return_prefix=pages.return_url)
    assert "\n" not in str(raised.value)
