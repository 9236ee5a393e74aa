"""Both shoppers on the gustaffo sandbox's real hosted page, driven only by specs/gustaffo/profile.yaml."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from paycert.sandbox import SandboxServer
from paycert.sandbox.gateways.gustaffo import CREDENTIALS
from paycert.shopper import (
    BrowserShopper,
    Card,
    ChallengeSpec,
    HttpShopper,
    PageSpec,
    ShopperDriver,
    ShopperError,
)
from tests.conftest import StartSandbox

PROFILE: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[2] / "specs" / "gustaffo" / "profile.yaml").read_text()
)
PAGE = PageSpec.from_profile(PROFILE["shopper"])
CHALLENGE = ChallengeSpec.from_profile(PROFILE.get("challenge"))
PASSWORD = PROFILE["challenge"]["password"]


@pytest.fixture
def return_url() -> Iterator[str]:
    closed = socket.socket()  # bound, never listening: the shopper must not request it
    closed.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{closed.getsockname()[1]}/shop/return"
    closed.close()


@contextmanager
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client of the gustaffo API with a bearer token from the sandbox's public test credentials."""
    verify = ssl.create_default_context(cafile=str(sandbox.ca_file)) if sandbox.ca_file else True
    with httpx.Client(base_url=f"{sandbox.base_url}/gustaffo", timeout=10, verify=verify) as client:
        token = client.post("/oauth/token", data={"grant_type": "client_credentials", **CREDENTIALS})
        token.raise_for_status()
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


def create_payment(sandbox: SandboxServer, return_url: str) -> dict[str, Any]:
    body = {
        "amount": 12.5,
        "currency": "EUR",
        "orderId": "o-1",
        "description": "shoes",
        "returnUrl": return_url,
    }
    with api(sandbox) as client:
        created = client.post("/api/v1/payments", json=body)
        created.raise_for_status()
        payment: dict[str, Any] = created.json()
        return payment


def status_of(sandbox: SandboxServer, payment_id: str) -> str:
    with api(sandbox) as client:
        return str(client.get(f"/api/v1/payments/{payment_id}").json()["status"])


@pytest.mark.parametrize("card_name", ["success", "challenge"])
def test_http_shopper_pays(sandbox: SandboxServer, return_url: str, card_name: str) -> None:
    payment = create_payment(sandbox, return_url)
    card = Card.from_profile(PROFILE["cards"][card_name])

    with HttpShopper() as shopper:
        outcome = pay(shopper, payment["redirectUrl"], card, return_url)

    assert outcome.landed
    assert outcome.challenged is (card_name == "challenge")
    assert outcome.return_query == {"paymentId": payment["paymentId"], "status": "COMPLETED"}
    assert status_of(sandbox, payment["paymentId"]) == "COMPLETED"


def test_http_shopper_over_https_trusts_only_the_given_ca(
    start_sandbox: StartSandbox, return_url: str
) -> None:
    sandbox = start_sandbox(tls=True)
    assert sandbox.ca_file is not None
    payment = create_payment(sandbox, return_url)
    assert payment["redirectUrl"].startswith("https://")
    card = Card.from_profile(PROFILE["cards"]["success"])

    with HttpShopper() as untrusting, pytest.raises(ShopperError, match="ConnectError"):
        pay(untrusting, payment["redirectUrl"], card, return_url)
    with HttpShopper(verify=sandbox.ca_file) as shopper:
        outcome = pay(shopper, payment["redirectUrl"], card, return_url)

    assert outcome.return_query == {"paymentId": payment["paymentId"], "status": "COMPLETED"}


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian's chromium is not installed")
def test_browser_shopper_pays_through_the_challenge_over_https(
    start_sandbox: StartSandbox, return_url: str, tmp_path: Path
) -> None:
    sandbox = start_sandbox(tls=True)
    payment = create_payment(sandbox, return_url)
    card = Card.from_profile(PROFILE["cards"]["challenge"])

    with BrowserShopper(tmp_path, ca_file=sandbox.ca_file, viewport=(480, 360)) as browser:
        outcome = pay(browser, payment["redirectUrl"], card, return_url)

    assert outcome.landed
    assert outcome.challenged
    assert outcome.return_query == {"paymentId": payment["paymentId"], "status": "COMPLETED"}
    assert status_of(sandbox, payment["paymentId"]) == "COMPLETED"
    assert len(outcome.screenshots) == 3  # the payment page, the challenge, the return


def pay(shopper: ShopperDriver, entry: str, card: Card, return_url: str) -> Any:
    return shopper.pay(entry, card, PAGE, challenge=CHALLENGE, password=PASSWORD, return_prefix=return_url)
