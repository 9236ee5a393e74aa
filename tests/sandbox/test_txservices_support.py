"""Helpers for the txservices sandbox tests (no tests here): a thin httpx client that speaks the gateway's
parameters and checksums, and a reader of the HTML forms the account holder sees.

The checksums are computed here by hand from FACTS.md, not with the sandbox's or the hook's code, so a wrong
formula on either side makes these tests fail.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from paycert.sandbox.gateways.txservices import CREDENTIALS

API = "/transactionServices/REST/v1"
VISA = "4111111111111111"  # success, frictionless
MASTERCARD_3DS = "5549110920049586"  # always asks for 3-D Secure
AMEX = "370000000000002"  # success
DECLINED = "4000000000000002"  # declined, "Do not honour"
ACS_PASSWORD = "password1"
RETURN_URL = "http://127.0.0.1:9/shop/return?order=1"

MEMBER = CREDENTIALS["member_id"]
KEY = CREDENTIALS["secure_key"]
_ids = itertools.count(1)


def md5(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def order_id() -> str:
    return f"order-{next(_ids)}"


class Tx:
    """The merchant's side of txservices, as plain HTTP calls against one sandbox."""

    def __init__(self, base_url: str) -> None:
        self.root = base_url
        self.base = f"{base_url}/txservices"
        self.api = f"{self.base}{API}"
        self.http = httpx.Client(timeout=10.0)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    # -- auth -----------------------------------------------------------------------------------------
    def token_response(self, **overrides: str) -> httpx.Response:
        form = {
            "authentication.partnerId": CREDENTIALS["partner_id"],
            "merchant.username": CREDENTIALS["username"],
            "authentication.sKey": CREDENTIALS["secure_key"],
            **overrides,
        }
        return self.http.post(f"{self.api}/authToken", data=form)

    def token(self) -> str:
        if self._token is None:
            response = self.token_response()
            assert response.status_code == 200, response.text
            self._token = str(response.json()["AuthToken"])
        return self._token

    def headers(self, accept: str | None = None, key: str | None = None) -> dict[str, str]:
        headers = {"authtoken": self.token()}
        if accept:
            headers["Accept"] = accept
        if key:
            headers["Idempotency-Key"] = key
        return headers

    # -- payments -------------------------------------------------------------------------------------
    def payment_body(
        self, card: str = VISA, amount: str = "10.00", payment_type: str = "DB", **extra: str
    ) -> dict[str, str]:
        reference = extra.pop("merchantTransactionId", None) or order_id()
        body = {
            "authentication.memberId": MEMBER,
            "authentication.terminalId": CREDENTIALS["terminal_id"],
            "authentication.checksum": md5(MEMBER, KEY, reference, amount),
            "merchantTransactionId": reference,
            "amount": amount,
            "currency": "EUR",
            "paymentType": payment_type,
            "paymentMode": "CC",
            "paymentBrand": "AMEX" if card.startswith("3") else "MC" if card.startswith("5") else "VISA",
            "card.number": card,
            "card.expiryMonth": "12",
            "card.expiryYear": "2030",
            "card.cvv": "1234" if card.startswith("3") else "123",
            "merchantRedirectUrl": RETURN_URL,
            "orderDescriptor": "paycert test order",
        }
        body.update(extra)
        return body

    def create(self, body: dict[str, str], *, as_json: bool = False, **header_args: Any) -> httpx.Response:
        headers = self.headers(**header_args)
        if as_json:
            return self.http.post(f"{self.api}/payments", json=body, headers=headers)
        return self.http.post(f"{self.api}/payments", data=body, headers=headers)

    def pay(
        self, card: str = VISA, amount: str = "10.00", payment_type: str = "DB", **extra: str
    ) -> dict[str, Any]:
        response = self.create(self.payment_body(card, amount, payment_type, **extra))
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    def operate(
        self, payment_id: str, payment_type: str, amount: str | None = None, **extra: str
    ) -> httpx.Response:
        body = {"authentication.memberId": MEMBER, "paymentType": payment_type, **extra}
        if amount is None:
            body["authentication.checksum"] = md5(MEMBER, KEY, payment_id)
        else:
            body["amount"] = amount
            body["authentication.checksum"] = md5(MEMBER, KEY, payment_id, amount)
        return self.http.post(f"{self.api}/payments/{payment_id}", data=body, headers=self.headers())

    def status(self, payment_id: str, checksum: str | None = None) -> httpx.Response:
        query = {
            "authentication.memberId": MEMBER,
            "authentication.checksum": checksum or md5(MEMBER, KEY, payment_id),
        }
        return self.http.get(f"{self.api}/payments/{payment_id}", params=query, headers=self.headers())

    # -- sandbox controls -----------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        response = self.http.post(f"{self.root}/_sandbox/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def outbox(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.root}/_sandbox/outbox", params={"gateway": "txservices"})
        result: list[dict[str, Any]] = response.json()
        return result

    def wait_for_attempts(self, count: int, timeout: float = 5.0) -> dict[str, Any]:
        """The one callback in the outbox, once it has been attempted `count` times (polled, bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            deliveries = self.outbox()
            if deliveries and deliveries[0]["attempts"] >= count:
                [delivery] = deliveries
                return delivery
            time.sleep(0.05)
        raise AssertionError(f"the callback was not attempted {count} times")


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"attrs": values, "inputs": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(values)
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(values)


def read_form(html: str) -> dict[str, Any]:
    """The single form of a page: its attributes, inputs and buttons."""
    reader = _FormReader()
    reader.feed(html)
    assert len(reader.forms) == 1, f"expected one form, found {len(reader.forms)}"
    return reader.forms[0]


def submit_page(tx: Tx, url: str, action: str, **fields: str) -> httpx.Response:
    """Open the account holder's page, check its form, and post it as a browser would (no redirects)."""
    page = tx.http.get(url)
    assert page.status_code == 200, page.text
    form = read_form(page.text)
    assert form["attrs"]["method"].lower() == "post"
    names = {field["name"] for field in form["inputs"]}
    assert set(fields) <= names, f"page has inputs {names}, not {set(fields)}"
    assert any(b.get("value") == action for b in form["buttons"]), f"no {action!r} button"
    return tx.http.post(form["attrs"]["action"], data={**fields, "action": action})


def return_query(response: httpx.Response) -> dict[str, str]:
    """The query the 303 sends the account holder back to the merchant with."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(RETURN_URL.split("?", maxsplit=1)[0])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def callback_checksum(body: dict[str, Any], secret: str = KEY) -> str:
    return md5(
        body["paymentId"], body["merchantTransactionId"], body["amount"], body["transactionStatus"], secret
    )
