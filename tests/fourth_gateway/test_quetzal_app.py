"""Quetzal Pay itself behaves as its spec says, so a certification of it means something (fast, no paycert run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from paycert.targets.spec import ApiSpec
from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import Delivery, WebhookSink
from tests.fourth_gateway.app import (
    API_SECRET,
    MERCHANT_ID,
    WEBHOOK_SECRET,
    WRONG_WEBHOOK_SECRET,
    QuetzalServer,
)

SPEC = ApiSpec.from_location(Path(__file__).parent / "openapi.yaml")
SUCCESS_CARD = {"holder": "Ada Quetzal", "pan": "4111111111111111", "exp": "12/2031", "csc": "123"}
DECLINED_CARD = {**SUCCESS_CARD, "pan": "4000000000000002"}


class Merchant:
    """A merchant's server talking to Quetzal, checking every answer against openapi.yaml."""

    def __init__(self, server: QuetzalServer, sink: WebhookSink) -> None:
        self.http = httpx.Client(base_url=server.base_url, timeout=5)
        self.sink = sink
        opened = self.call(
            "openSession", "POST", "/v2/sessions", json={"merchant": MERCHANT_ID, "apiSecret": API_SECRET}
        )
        self.headers = {"X-Quetzal-Session": opened.json()["sessionToken"]}

    def call(self, operation_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        body = response.json() if response.headers.get("content-type", "").endswith("json") else response.text
        violations = SPEC.validate_response(
            operation_id, response.status_code, response.headers["content-type"], body
        )
        assert violations == [], [str(v) for v in violations]
        return response

    def create(self, total: Any = 1050, **extra: Any) -> httpx.Response:
        body = {
            "total": total,
            "iso_currency": "EUR",
            "merchant_ref": "ORDER-1",
            "back_to": "https://shop.example/back?lang=en",
            "notify_url": f"{self.sink.url}/quetzal",
            **extra,
        }
        return self.call("createCharge", "POST", "/v2/charges", json=body, headers=self.headers)

    def pay(self, card: dict[str, str] | None) -> tuple[str, dict[str, list[str]]]:
        """Create a charge and pay it (None: the shopper cancels); the charge ref and the return query."""
        charge = self.create().json()["charge"]
        page = httpx.get(charge["checkout_link"], timeout=5)
        assert page.status_code == 200
        assert 'id="quetzal-checkout-form"' in page.text
        assert 'id="quetzal-pay"' in page.text
        assert 'id="quetzal-abort"' in page.text
        form = {**card, "action": "pay"} if card else {"action": "cancel"}
        answer = httpx.post(charge["checkout_link"], data=form, timeout=5)
        assert answer.status_code == 303, answer.text
        location = urlsplit(answer.headers["location"])
        assert location.netloc == "shop.example"
        return charge["ref"], parse_qs(location.query)

    def state(self, ref: str) -> str:
        state: str = self.call("getCharge", "GET", f"/v2/charges/{ref}", headers=self.headers).json()[
            "charge"
        ]["state"]
        return state

    def refund(self, ref: str, total: Any) -> httpx.Response:
        return self.call(
            "refundCharge", "POST", f"/v2/charges/{ref}/refunds", json={"total": total}, headers=self.headers
        )

    def webhooks(self, ref: str, count: int = 1, timeout: float = 5) -> list[Delivery]:
        return self.sink.wait_for(count, timeout, predicate=lambda d: ref.encode() in d.body)


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as receiver:
        yield receiver


def merchant_of(sink: WebhookSink, **faults: bool) -> Iterator[Merchant]:
    with QuetzalServer(**faults) as server:
        merchant = Merchant(server, sink)
        yield merchant
        merchant.http.close()


@pytest.fixture
def merchant(sink: WebhookSink) -> Iterator[Merchant]:
    yield from merchant_of(sink)


def test_calls_need_a_session_and_wrong_secrets_get_none(merchant: Merchant) -> None:
    wrong = merchant.call(
        "openSession", "POST", "/v2/sessions", json={"merchant": MERCHANT_ID, "apiSecret": "nope"}
    )
    assert wrong.status_code == 401
    assert "Unknown merchant or wrong apiSecret" in wrong.text
    for headers in ({}, {"X-Quetzal-Session": "qzs_forged"}):
        refused = merchant.call("createCharge", "POST", "/v2/charges", json={"total": 100}, headers=headers)
        assert refused.status_code == 401


@pytest.mark.parametrize("total", [0, -500, 10.5, "1050", True])
def test_a_total_that_is_not_positive_minor_units_is_refused_clearly(merchant: Merchant, total: Any) -> None:
    refused = merchant.create(total)

    assert refused.status_code == 422
    assert "total must be a positive integer number of minor units" in refused.json()["error"]["message"]


def test_a_charge_is_created_nested_and_an_idempotent_retry_creates_nothing(merchant: Merchant) -> None:
    body = {"total": 1050, "iso_currency": "EUR", "merchant_ref": "R-1", "back_to": "https://shop.example/b"}
    headers = {**merchant.headers, "Idempotency-Key": "k-1"}
    first = merchant.call("createCharge", "POST", "/v2/charges", json=body, headers=headers)
    again = merchant.call("createCharge", "POST", "/v2/charges", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    charge = first.json()["charge"]
    assert charge["state"] == "open"
    assert charge["total"] == 1050
    assert charge["checkout_link"].endswith(f"/pay/{charge['ref']}")
    assert again.json()["charge"]["ref"] == charge["ref"]


def test_a_paid_charge_settles_everywhere_and_its_webhook_verifies(merchant: Merchant) -> None:
    ref, query = merchant.pay(SUCCESS_CARD)

    assert query == {"lang": ["en"], "ref": [ref], "outcome": ["settled"]}
    assert merchant.state(ref) == "settled"
    [webhook] = merchant.webhooks(ref)
    assert webhook.json()["type"] == "charge.settled"
    assert webhook.json()["data"]["total"] == 1050
    assert get_scheme("standard-webhooks").verify(WEBHOOK_SECRET, webhook.body, webhook.headers).ok
    assert webhook.headers["webhook-id"] == webhook.json()["id"]


def test_declined_and_cancelled_charges_end_refused_and_abandoned(merchant: Merchant) -> None:
    declined, declined_query = merchant.pay(DECLINED_CARD)
    cancelled, cancelled_query = merchant.pay(None)

    assert declined_query["outcome"] == ["refused"]
    assert merchant.state(declined) == "refused"
    assert merchant.webhooks(declined)[0].json()["type"] == "charge.refused"
    assert cancelled_query["outcome"] == ["abandoned"]
    assert merchant.state(cancelled) == "abandoned"
    assert httpx.get(f"{merchant.http.base_url}/pay/{cancelled}", timeout=5).status_code == 409


def test_a_refund_is_limited_to_the_settled_total_and_made_once(merchant: Merchant) -> None:
    ref, _ = merchant.pay(SUCCESS_CARD)

    assert merchant.refund(ref, 1051).status_code == 422
    assert merchant.refund(ref, 50).json()["refund"]["charge_state"] == "partially_refunded"
    assert merchant.refund(ref, 1000).json()["refund"]["charge_state"] == "refunded"
    assert merchant.refund(ref, 1).status_code == 409
    assert merchant.state(ref) == "refunded"


def test_a_webhook_answered_500_is_retried_after_a_second_with_the_same_id(merchant: Merchant) -> None:
    merchant.sink.fail_next(1, mode="status", status=500)
    ref, _ = merchant.pay(SUCCESS_CARD)

    first, retry = merchant.webhooks(ref, count=2)
    assert [first.answer, retry.answer] == ["500", "200"]
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert 0.8 <= retry.received_at - first.received_at <= 3


def test_the_signs_wrongly_fault_signs_with_another_secret(sink: WebhookSink) -> None:
    for merchant in merchant_of(sink, signs_wrongly=True):
        ref, _ = merchant.pay(SUCCESS_CARD)
        [webhook] = merchant.webhooks(ref)
        scheme = get_scheme("standard-webhooks")
        assert not scheme.verify(WEBHOOK_SECRET, webhook.body, webhook.headers).ok
        assert scheme.verify(WRONG_WEBHOOK_SECRET, webhook.body, webhook.headers).ok


def test_the_decline_is_success_fault_settles_the_decline_card(sink: WebhookSink) -> None:
    for merchant in merchant_of(sink, decline_is_success=True):
        ref, query = merchant.pay(DECLINED_CARD)
        assert query["outcome"] == ["settled"]
        assert merchant.state(ref) == "settled"
