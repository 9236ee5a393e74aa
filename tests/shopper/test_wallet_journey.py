"""Paying with another method of the hosted page (a wallet): one page model, `shopper.methods` of the profile,
for both shoppers, on the gustaffo sandbox's real PayPal button and approval page."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from paycert.sandbox import SandboxServer
from paycert.shopper import BrowserShopper, HttpShopper, PageSpec, ShopperDriver, ShopperError
from paycert.shopper.driver import MethodSpec
from paycert.shopper.errors import NeedsBrowserError
from paycert.shopper.journey import Action, Journey
from tests.shopper.test_gustaffo import create_payment, status_of

PROFILE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[2] / "specs" / "gustaffo" / "profile.yaml").read_text()
)
PAGE = PageSpec.from_profile(PROFILE["shopper"])


@pytest.fixture
def return_url() -> Iterator[str]:
    closed = socket.socket()  # bound, never listening: the shopper must not request it
    closed.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{closed.getsockname()[1]}/shop/return"
    closed.close()


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


def test_the_profile_gives_the_page_its_paypal_method() -> None:
    assert PAGE.methods == {
        "paypal": MethodSpec(
            name="paypal",
            select="#paypal-button",
            approve="#paypal-approve",
            cancel="#paypal-cancel",
            method="PAYPAL",
        )
    }
    with pytest.raises(ShopperError, match="no payment method 'applepay' \\(its methods: paypal\\)"):
        PAGE.method("applepay")
    with pytest.raises(ShopperError, match="has no 'approve'"):
        PageSpec.from_profile({"kind": "hosted-page", "methods": {"paypal": {"select": "#p", "method": "P"}}})


@pytest.mark.parametrize(("approve", "status"), [(True, "COMPLETED"), (False, "CANCELLED")])
def test_both_shoppers_pay_or_cancel_with_paypal(
    shopper: ShopperDriver, sandbox: SandboxServer, return_url: str, approve: bool, status: str
) -> None:
    payment = create_payment(sandbox, return_url)

    outcome = shopper.pay_with(
        payment["redirectUrl"], PAGE, "paypal", approve=approve, return_prefix=return_url
    )

    assert outcome.landed
    assert outcome.return_query == {"paymentId": payment["paymentId"], "status": status}
    assert status_of(sandbox, payment["paymentId"]) == status
    assert any(page.endswith(f"/checkout/{payment['paymentId']}/paypal") for page in outcome.pages), (
        "the journey never went through the PayPal approval page"
    )


def test_a_page_without_the_methods_button_is_a_shopper_error(
    shopper: ShopperDriver, sandbox: SandboxServer, return_url: str
) -> None:
    payment = create_payment(sandbox, return_url)
    missing = replace(PAGE, methods={"paypal": replace(PAGE.methods["paypal"], select="#no-such-button")})

    with pytest.raises(ShopperError, match="no paypal button matching '#no-such-button'"):
        shopper.pay_with(payment["redirectUrl"], missing, "paypal", return_prefix=return_url)
    assert status_of(sandbox, payment["paymentId"]) == "PENDING"


def test_when_the_methods_page_never_comes_the_journey_ends_there_unlanded(
    shopper: ShopperDriver, sandbox: SandboxServer, return_url: str
) -> None:
    # The "approval page" looked for is not there: the shopper stops where the gateway left them.
    payment = create_payment(sandbox, return_url)
    elsewhere = replace(
        PAGE,
        methods={"paypal": replace(PAGE.methods["paypal"], approve="#approve-x", cancel="#cancel-x")},
    )

    outcome = shopper.pay_with(payment["redirectUrl"], elsewhere, "paypal", return_prefix=return_url)

    assert not outcome.landed
    assert outcome.final_url.endswith(f"/checkout/{payment['paymentId']}/paypal")
    assert status_of(sandbox, payment["paymentId"]) == "PENDING"


def test_a_method_that_needs_a_browser_is_refused_by_the_http_shopper_before_any_request(
    return_url: str,
) -> None:
    scripted = replace(PAGE, methods={"paypal": replace(PAGE.methods["paypal"], browser=True)})

    with HttpShopper() as http, pytest.raises(NeedsBrowserError, match="need JavaScript"):
        # Nobody listens at the entry URL: a request would fail differently.
        http.pay_with(return_url + "/entry", scripted, "paypal", return_prefix=return_url + "/back")
    assert BrowserShopper.runs_scripts
    assert not HttpShopper.runs_scripts


def test_the_journey_picks_then_answers_once() -> None:
    journey = Journey(PAGE, method=PAGE.methods["paypal"], approve_method=False)

    assert journey.next("hosted", has_challenge=False, has_payment=True, has_method=True) is Action.METHOD
    assert journey.next("paypal", has_challenge=False, has_payment=False, has_method_page=True) is (
        Action.METHOD_CANCEL
    )
    assert journey.next("again", has_challenge=False, has_payment=False, has_method_page=True) is Action.STOP
    no_cancel = replace(PAGE.methods["paypal"], cancel=None)
    cannot = Journey(PAGE, method=no_cancel, approve_method=False)
    cannot.next("hosted", has_challenge=False, has_payment=True, has_method=True)
    with pytest.raises(ShopperError, match="names no cancel button"):
        cannot.next("paypal", has_challenge=False, has_payment=False, has_method_page=True)
