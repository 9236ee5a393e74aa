"""The HTTP shopper against a real hosted-page server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paycert.shopper import Card, ChallengeSpec, HttpShopper, PageSpec, ShopperError
from tests.shopper import pages_app
from tests.shopper.conftest import PagesServer

SUCCESS = Card(pages_app.SUCCESS_CARD, "12", "2030", "123", "Ada Lovelace")
DECLINED = Card(pages_app.DECLINED_CARD, "12", "2030", "123")
CHALLENGED = Card(pages_app.CHALLENGE_CARD, "12", "2030", "123")
CHALLENGE = ChallengeSpec.from_profile(
    {
        "password": pages_app.PASSWORD,
        "form": "#challenge",
        "password_field": "password",
        "submit": "button[name=action][value=submit]",
        "cancel": "button[name=action][value=cancel]",
    }
)


@pytest.fixture
def shopper() -> Iterator[HttpShopper]:
    with HttpShopper() as driver:
        yield driver


def test_pays_and_stops_at_the_return_url_without_requesting_it(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    outcome = shopper.pay(f"{pages.base_url}/start/p1", SUCCESS, pay_page, return_prefix=pages.return_url)

    assert outcome.landed
    assert outcome.return_query == {"paymentId": "p1", "status": "COMPLETED"}
    assert outcome.final_url.startswith(pages.return_url)
    assert not outcome.challenged
    # The redirect hop, the page, the post and the return; the pay page's token is not recorded.
    assert outcome.pages == [
        f"{pages.base_url}/start/p1",
        f"{pages.base_url}/pay/p1?token=***",
        f"{pages.base_url}/pay/p1",
        f"{pages.return_url}?paymentId=p1&status=COMPLETED",
    ]


def test_sends_what_a_browser_sends(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    shopper.pay(f"{pages.base_url}/pay/p2", SUCCESS, pay_page, return_prefix=pages.return_url)

    # Hidden input kept, fields filled from the templates, the unchecked box left out, the selected option
    # sent, and only the pressed button.
    assert pages.submissions["p2"] == [
        ("session", pages_app.SESSION),
        ("cardNumber", pages_app.SUCCESS_CARD),
        ("expiry", "12/30"),
        ("cvc", "123"),
        ("holder", "Ada Lovelace"),
        ("lang", "de"),
        ("action", "pay"),
    ]


def test_declined_card_returns_failed(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    outcome = shopper.pay(f"{pages.base_url}/pay/p3", DECLINED, pay_page, return_prefix=pages.return_url)

    assert outcome.return_query["status"] == "FAILED"


@pytest.mark.parametrize(
    ("password", "status"), [(pages_app.PASSWORD, "COMPLETED"), ("wrong", "FAILED")], ids=["pass", "fail"]
)
def test_challenge(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec, password: str, status: str
) -> None:
    outcome = shopper.pay(
        f"{pages.base_url}/pay/c-{status}",
        CHALLENGED,
        pay_page,
        challenge=CHALLENGE,
        password=password,
        return_prefix=pages.return_url,
    )

    assert outcome.challenged
    assert outcome.landed
    assert outcome.return_query == {"paymentId": f"c-{status}", "status": status}
    assert pages.submissions[f"c-{status}/challenge"] == [("password", password), ("action", "submit")]


def test_challenge_found_by_its_password_field_alone(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    outcome = shopper.pay(
        f"{pages.base_url}/pay/c-default",
        CHALLENGED,
        pay_page,
        challenge=ChallengeSpec(),  # a profile with only the password: defaults find the form and button
        password=pages_app.PASSWORD,
        return_prefix=pages.return_url,
    )

    assert outcome.return_query["status"] == "COMPLETED"


def test_challenge_cancel(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    outcome = shopper.pay(
        f"{pages.base_url}/pay/c-cancel",
        CHALLENGED,
        pay_page,
        challenge=CHALLENGE,
        cancel_challenge=True,
        return_prefix=pages.return_url,
    )

    assert outcome.challenged
    assert outcome.return_query["status"] == "CANCELLED"


def test_challenge_without_password_is_an_error(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    with pytest.raises(ShopperError, match="no password was given"):
        shopper.pay(
            f"{pages.base_url}/pay/c-none",
            CHALLENGED,
            pay_page,
            challenge=CHALLENGE,
            return_prefix=pages.return_url,
        )


def test_challenge_without_challenge_spec_stops_unlanded(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    outcome = shopper.pay(
        f"{pages.base_url}/pay/c-nospec", CHALLENGED, pay_page, return_prefix=pages.return_url
    )

    assert not outcome.landed
    assert outcome.final_url == f"{pages.base_url}/challenge/c-nospec"
    assert outcome.return_query == {}


def test_a_challenge_shown_again_stops_unlanded(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    outcome = shopper.pay(
        f"{pages.base_url}/again/a1",
        CHALLENGED,
        pay_page,
        challenge=ChallengeSpec(form="#challenge", submit="button[value=submit]"),
        password="wrong",
        return_prefix=pages.return_url,
    )

    assert outcome.challenged
    assert not outcome.landed


def test_cancel(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    outcome = shopper.cancel(f"{pages.base_url}/pay/k1", pay_page, return_prefix=pages.return_url)

    assert outcome.return_query == {"paymentId": "k1", "status": "CANCELLED"}
    assert pages.submissions["k1"][-1] == ("action", "cancel")
    assert ("action", "pay") not in pages.submissions["k1"]


def test_cancel_without_a_cancel_button_in_the_profile(
    shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec
) -> None:
    no_cancel = PageSpec(pay_page.form, pay_page.fields, pay_page.submit, cancel=None)
    with pytest.raises(ShopperError, match="no cancel button"):
        shopper.cancel(f"{pages.base_url}/pay/k2", no_cancel, return_prefix=pages.return_url)


def test_second_layout_with_named_form_and_buttons_outside_it(
    shopper: HttpShopper, pages: PagesServer, split_page: PageSpec
) -> None:
    paid = shopper.pay(f"{pages.base_url}/split/s1", SUCCESS, split_page, return_prefix=pages.return_url)
    cancelled = shopper.cancel(f"{pages.base_url}/split/s2", split_page, return_prefix=pages.return_url)

    assert paid.return_query["status"] == "COMPLETED"
    assert pages.submissions["s1"] == [
        ("session", pages_app.SESSION),
        ("pan", pages_app.SUCCESS_CARD),
        ("mm", "12"),
        ("yyyy", "2030"),
        ("csc", "123"),
        ("do", "go"),
    ]
    assert cancelled.return_query["status"] == "CANCELLED"


def test_meta_refresh_page_is_followed(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    outcome = shopper.pay(f"{pages.base_url}/wait/w1", SUCCESS, pay_page, return_prefix=pages.return_url)

    assert outcome.return_query["status"] == "COMPLETED"


def test_page_without_the_form(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    with pytest.raises(ShopperError, match="no payment form matching 'form#payform'"):
        shopper.pay(f"{pages.base_url}/blank", SUCCESS, pay_page, return_prefix=pages.return_url)


def test_form_without_a_profile_field(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    wrong = PageSpec(pay_page.form, {**pay_page.fields, "cardholderName": "{card.holder}"}, pay_page.submit)
    with pytest.raises(ShopperError, match="no input named cardholderName"):
        shopper.pay(f"{pages.base_url}/pay/f1", SUCCESS, wrong, return_prefix=pages.return_url)


def test_form_without_the_pay_button(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    wrong = PageSpec(pay_page.form, pay_page.fields, "button[value=buy]")
    with pytest.raises(ShopperError, match=r"no button matching 'button\[value=buy\]'"):
        shopper.pay(f"{pages.base_url}/pay/f2", SUCCESS, wrong, return_prefix=pages.return_url)


def test_http_error_page(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    with pytest.raises(ShopperError, match="answered HTTP 500"):
        shopper.pay(f"{pages.base_url}/broken", SUCCESS, pay_page, return_prefix=pages.return_url)


def test_steps_are_bounded(pages: PagesServer, pay_page: PageSpec) -> None:
    with HttpShopper(max_steps=5) as shopper, pytest.raises(ShopperError, match="within 5 steps"):
        shopper.pay(f"{pages.base_url}/loop", SUCCESS, pay_page, return_prefix=pages.return_url)


def test_the_step_bound_counts_requests(pages: PagesServer, pay_page: PageSpec) -> None:
    entry = f"{pages.base_url}/start/n1"  # three requests: the bounce, the page, the post
    with HttpShopper(max_steps=3) as enough:
        assert enough.pay(entry, SUCCESS, pay_page, return_prefix=pages.return_url).landed
    with HttpShopper(max_steps=2) as short, pytest.raises(ShopperError, match="within 2 steps"):
        short.pay(entry, SUCCESS, pay_page, return_prefix=pages.return_url)


def test_unreachable_entry(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    # The return URL's port is closed: reaching it is exactly what the driver must never do.
    with pytest.raises(ShopperError, match="failed: ConnectError"):
        shopper.pay(
            pages.return_url.replace("/return", "/elsewhere"), SUCCESS, pay_page, return_prefix="http://x/"
        )


def test_errors_do_not_leak_the_card(shopper: HttpShopper, pages: PagesServer, pay_page: PageSpec) -> None:
    with pytest.raises(ShopperError) as raised:
        shopper.pay(
            f"{pages.base_url}/blank?pan={SUCCESS.number}", SUCCESS, pay_page, return_prefix=pages.return_url
        )

    assert SUCCESS.number not in str(raised.value)
    assert "\n" not in str(raised.value)
