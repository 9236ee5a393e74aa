"""Fixtures for certifying the merchant's side: paycert plays the gateway against the merchant's webhook
receiver and return URL, and reads the merchant's order-status endpoint (specs/merchant/openapi.yaml)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis.strategies import SearchStrategy

from paycert.core.errors import NotApplicable
from paycert.core.evidence import Exchange
from paycert.gateways.client import GatewayClient
from paycert.gateways.curl import curl_line
from paycert.gateways.http import GatewayHttp
from paycert.plugin.clock import GatewayTime
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.shopper import Card, ChallengeSpec, PageSpec, ShopperOutcome
from paycert.targets.home import specs_dir
from paycert.targets.spec import ApiSpec
from paycert.targets.target import MerchantGateway, MerchantTarget
from paycert.webhooks.sender import EventShape, Mode, Sent, WebhookSender
from paycert.webhooks.strategies import webhook_documents

__all__ = ["MerchantHarness", "merchant"]

DEFAULT_AMOUNT = Decimal("10.00")
DEFAULT_CURRENCY = "EUR"
ORDER_WAIT_SECONDS = 10.0


class MerchantHarness:
    """One merchant integration as seen from one gateway: its orders, and a sender playing that gateway."""

    def __init__(self, run: RunState, client: GatewayClient, target: MerchantTarget) -> None:
        self.run = run
        self.client = client
        self.profile = client.profile
        self.target = target
        self.endpoints: MerchantGateway = target.for_gateway(client.id)
        self.api = GatewayHttp(
            target.base_url,
            run.recorder,
            spec=ApiSpec.from_location(specs_dir() / "merchant" / "openapi.yaml"),
            timeout=target.timeout_seconds,
            ca_file=target.ca_file,
            # An order the merchant opens creates a payment at this gateway: the gateway's rule holds for it
            # too (its amounts are major units, whatever the gateway writes).
            guard=replace(client.guard, minor_decimals=None),
        )
        schema = self.profile.json_schema("webhook") or {}
        self.webhook_schema = schema
        examples = schema.get("examples") or [{}]
        self.shape = EventShape(
            examples[0], self.profile.webhooks, self.profile.raw.get("statuses", {}), self.profile.amounts
        )
        self.scheme = str(self.profile.webhooks.get("signature", {}).get("scheme", "none"))
        self.timeout_seconds = float((self.profile.webhooks.get("retries") or {}).get("timeout_seconds", 10))
        self.sender = WebhookSender(
            self.endpoints.webhook_url,
            self.scheme,
            self.endpoints.webhook_secret,
            tamper_pointer=self.profile.webhooks.get("amount"),
            verify=str(target.ca_file) if target.ca_file else True,
            timeout=max(self.timeout_seconds * 3, 10.0),
            record=self._record,
        )
        self.time = GatewayTime(target.control_url, verify=str(target.ca_file) if target.ca_file else True)

    def close(self) -> None:
        self.api.close()
        self.sender.close()

    # -- the merchant's order API -------------------------------------------------------------------------

    def open_order(
        self, amount: Decimal = DEFAULT_AMOUNT, currency: str = DEFAULT_CURRENCY
    ) -> dict[str, Any]:
        """A checkout at the merchant: a pending order with its payment created at the gateway."""
        body: dict[str, Any] = {"gateway": self.client.id, "amount": f"{amount:.2f}", "currency": currency}
        card = self._card_for_direct_gateway()
        if card is not None:
            body["card"] = card
        answer = self.api.send(
            "POST", "/orders", json_body=body, operation_id="createOrder", label="merchant: checkout"
        )
        if answer.status != 201 or not isinstance(answer.body, dict):
            raise AssertionError(
                f"the merchant's checkout answered HTTP {answer.status}: {answer.text[:200]}"
            )
        return answer.body

    def order(self, order_id: str) -> dict[str, Any]:
        answer = self.api.send(
            "GET", f"/orders/{order_id}", operation_id="getOrder", label="merchant: check payment status"
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise AssertionError(f"the merchant's order status answered HTTP {answer.status}")
        return answer.body

    def wait_for_order(
        self, order_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = ORDER_WAIT_SECONDS
    ) -> dict[str, Any]:
        """The order once `done` holds, or as it is when `timeout` runs out (polled, bounded)."""
        deadline = time.monotonic() + timeout
        current = self.order(order_id)
        while not done(current) and time.monotonic() < deadline:
            time.sleep(0.2)
            current = self.order(order_id)
        return current

    # -- playing the gateway ------------------------------------------------------------------------------

    @property
    def signs(self) -> bool:
        return self.scheme != "none"

    def require_signed(self) -> None:
        if not self.signs:
            reason = self.profile.webhooks.get("signature", {}).get("reason") or "it does not sign webhooks"
            raise NotApplicable(f"{self.client.id} signs no webhooks: {reason}")
        if self.endpoints.webhook_secret is None:
            raise AssertionError(
                f"the target names no webhook secret for {self.client.id}: the merchant cannot verify its webhooks"
            )

    def event(
        self,
        order: Mapping[str, Any],
        state: str = "COMPLETED",
        *,
        amount: Decimal | None = None,
        currency: str | None = None,
        template: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A webhook body of this gateway about the order's payment, saying `state`.

        `template` is another body of the gateway's (one drawn from its schema) to start from instead of the
        schema's first example.
        """
        shape = self.shape if template is None else replace(self.shape, example=dict(template))
        return shape.body(
            payment_id=str(order["paymentId"]),
            state=state,
            amount=Decimal(str(order["amount"])) if amount is None else amount,
            currency=str(order["currency"]) if currency is None else currency,
        )

    def webhook_documents(self) -> SearchStrategy[dict[str, Any]]:
        """Every webhook body this gateway's schema allows, as a hypothesis strategy."""
        if not self.webhook_schema:
            raise NotApplicable(f"{self.client.id}'s profile names no webhook schema to draw bodies from")
        return webhook_documents(self.webhook_schema)

    def send(
        self, body: Mapping[str, Any] | bytes, mode: Mode = "signed", *, msg_id: str | None = None
    ) -> Sent:
        return self.sender.send(
            body, mode, msg_id=msg_id, label=f"paycert as {self.client.id}: webhook ({mode})"
        )

    def _record(self, label: str, headers: Mapping[str, str], body: bytes, sent: Sent) -> None:
        r = self.run.redactor
        request_body = r.text(body.decode("utf-8", "replace"))
        safe_headers = r.headers(dict(headers))
        url = r.url(self.sender.url)
        self.run.recorder.log.add(
            Exchange(
                method="POST",
                url=url,
                request_headers=safe_headers,
                request_body=request_body,
                status=sent.status,
                response_headers={},
                response_body=r.text(sent.text) if sent.text else None,
                duration_ms=round(sent.elapsed_s * 1000, 2),
                curl=curl_line("POST", url, safe_headers, request_body),
                error=r.text(sent.error) if sent.error else None,
                label=label,
            )
        )

    # -- the shopper, for a payment that must really be paid ----------------------------------------------

    def pay(self, order: Mapping[str, Any]) -> ShopperOutcome:
        """Pay the order's payment at the gateway as its shopper would, on the page the merchant sent them to."""
        shopper = self.profile.shopper
        entry = order.get("paymentUrl")
        if not entry:
            raise NotApplicable(f"the merchant's {self.client.id} checkout gives no page to pay on")
        outcome = "CHALLENGE" if shopper.get("kind") == "direct" else "COMPLETED"
        found = self.profile.card_with_outcome(outcome)
        if found is None:
            raise NotApplicable(f"{self.client.id} lists no test card with outcome {outcome}")
        challenge = self.profile.challenge
        return self.run.shopper_driver().pay(
            str(entry),
            Card.from_profile(found[1]),
            PageSpec.from_profile(shopper),
            challenge=ChallengeSpec.from_profile(challenge),
            password=challenge["password"] if challenge else None,
            return_prefix=str(order.get("returnUrl") or self.endpoints.return_url),
        )

    def _card_for_direct_gateway(self) -> dict[str, str] | None:
        # A direct gateway takes the card with the payment request, so the merchant's checkout must get one:
        # the challenge card keeps the payment pending behind a page the shopper is redirected to.
        if self.profile.shopper.get("kind") != "direct":
            return None
        found = self.profile.card_with_outcome("CHALLENGE") or self.profile.card_with_outcome("COMPLETED")
        if found is None:
            return None
        card = found[1]
        return {
            "number": str(card["number"]),
            "expiryMonth": str(card["expiry_month"]),
            "expiryYear": str(card["expiry_year"]),
            "cvv": str(card["cvv"]),
            "brand": str(card.get("brand", "")),
        }

    def pass_time(self, seconds: float) -> None:
        if not self.time.controllable:
            pytest.skip(
                f"{NOT_EVALUATED_PREFIX}the target gives no control_url for the merchant's clock; "
                f"waiting {seconds / 60:.0f} real minutes is not done"
            )
        self.time.pass_time(seconds)


@pytest.fixture
def merchant(paycert_run: RunState, gateway: GatewayClient) -> Iterator[MerchantHarness]:
    """The target's merchant integration, with paycert playing this gateway against it."""
    target = paycert_run.target.merchant
    if target is None:
        raise NotApplicable("the target names no merchant integration (its `merchant:` section)")
    harness = MerchantHarness(paycert_run, gateway, target)
    yield harness
    harness.close()
