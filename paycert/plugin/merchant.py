"""Fixtures for certifying the merchant's side: paycert plays the gateway against the merchant's webhook
receiver and return URL, and reads the merchant's order-status endpoint (specs/merchant/openapi.yaml).

Every state check reads the order until the target's settle window ends (`merchant.settle_seconds` of the
merchant's clock), so a merchant that acknowledges first and processes later is judged on its final state,
and one that polls every minute of the test clock has had its minute. Where the merchant's clock is a test
clock, the window is walked in steps; after each step a merchant that offers the control endpoint
`GET {base_url}/_paycert/work` (specs/merchant/openapi.yaml, getWork) is read as soon as it says it is idle,
and any other merchant is given its real seconds (`merchant.settle_real_seconds`)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from paycert.core.errors import NotApplicable
from paycert.core.evidence import Exchange
from paycert.core.tls import context_for, verifier
from paycert.gateways.client import GatewayClient
from paycert.gateways.curl import curl_line
from paycert.gateways.http import GatewayHttp
from paycert.plugin.clock import GatewayTime
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.shopper import Card, ChallengeSpec, PageSpec, ShopperOutcome
from paycert.targets.bounds import bounded_client, within
from paycert.targets.home import specs_dir
from paycert.targets.spec import ApiSpec
from paycert.targets.target import MerchantGateway, MerchantTarget
from paycert.webhooks.sender import EventShape, Mode, Sent, WebhookSender

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["MerchantHarness", "merchant"]

DEFAULT_AMOUNT = Decimal("10.00")
DEFAULT_CURRENCY = "EUR"
# The settle window is walked in this many steps: the clock moves a step, the order is read again.
WINDOW_STEPS = 5
REAL_POLL_SECONDS = 0.5
# The merchant's control endpoint (specs/merchant/openapi.yaml, getWork), under its base URL.
WORK_PATH = "/_paycert/work"
# Asked again after 5 ms, then ever less often up to every 100 ms: most work ends within milliseconds, and a
# merchant busy for seconds (a slow answer) is not asked a hundred times a second.
WORK_POLL_SECONDS = (0.005, 0.1)
# A merchant that still says it is at work after this long in one walk is read as it is (and the evidence
# says so): a busy answer must not hold a run for ever.
WORK_LIMIT_SECONDS = 30.0
Check = Callable[[dict[str, Any]], bool]


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
            examples[0],
            self.profile.webhooks,
            self.profile.raw.get("statuses", {}),
            self.profile.amounts,
            schema,
        )
        self.time = GatewayTime(target.control_url, verify=str(target.ca_file) if target.ca_file else True)
        self.work = MerchantWork(
            target.base_url.rstrip("/") + WORK_PATH, target.ca_file, target.timeout_seconds
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
            # A scheme with a signed timestamp is checked against the merchant's clock: the test clock.
            now=(lambda: int(self.time.now())) if self.time.controllable else None,
        )

    def close(self) -> None:
        self.api.close()
        self.sender.close()
        self.work.close()
        self.time.close()

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
        order = answer.body
        # What an attack then does to the order is only evidence if the order was untouched before it.
        if order.get("status") != "PENDING" or order.get("fulfilments") != 0:
            raise AssertionError(
                f"a new order is {order.get('status')} with {order.get('fulfilments')} fulfilments, not PENDING"
            )
        return order

    def order(self, order_id: str) -> dict[str, Any]:
        answer = self.api.send(
            "GET", f"/orders/{order_id}", operation_id="getOrder", label="merchant: check payment status"
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise AssertionError(f"the merchant's order status answered HTTP {answer.status}")
        return answer.body

    def orders_for_payment(self, payment_id: str) -> list[dict[str, Any]]:
        """Every order the merchant holds for a payment of this gateway (seed 004's check-payment-status)."""
        answer = self.api.send(
            "GET",
            "/orders",
            params={"gateway": self.client.id, "paymentId": payment_id},
            operation_id="findOrders",
            label="merchant: orders of a payment",
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise AssertionError(f"the merchant's order search answered HTTP {answer.status}")
        return list(answer.body.get("orders") or [])

    def wait_for_order(self, order_id: str, done: Check) -> dict[str, Any]:
        """The order once `done` holds, or as it is when the settle window ends."""
        return self._walk_window(order_id, done, move_clock=True)

    def settled(self, order_id: str, *, move_clock: bool = True) -> dict[str, Any]:
        """The order when the settle window has passed: what the merchant finally made of what it was sent.

        `move_clock=False` lets only the window's real part pass (or, where the merchant can say, waits until
        it is idle), for a check that must not let clock time pass (an order that must still be pending one
        minute before it expires)."""
        return self._walk_window(order_id, None, move_clock=move_clock)

    def _walk_window(self, order_id: str, done: Check | None, *, move_clock: bool) -> dict[str, Any]:
        what = f"the merchant's order {order_id} to settle ({self.target.settle_seconds:g} s window)"
        with self.run.waiting(what):
            return self._walk(order_id, done, move_clock=move_clock)

    def _walk(self, order_id: str, done: Check | None, *, move_clock: bool) -> dict[str, Any]:
        window, real = self.target.settle_seconds, self.target.settle_real_seconds
        current = self.order(order_id)
        if done is not None and done(current):
            return current
        if self.time.controllable:
            # The test clock is moved through the window in steps, so a job on the test clock comes due, and
            # after each step the merchant gets to finish what it started: until it says it is idle, or, if it
            # cannot say, for its share of the window's real seconds (work queued in real time).
            limit = time.monotonic() + WORK_LIMIT_SECONDS
            said_busy = False
            for _ in range(WINDOW_STEPS):
                if move_clock:
                    self.time.pass_time(window / WINDOW_STEPS)
                idle = self.work.until_idle(limit)
                if idle is None:  # the merchant cannot say: its share of the real seconds
                    time.sleep(real / WINDOW_STEPS)
                elif not idle and not said_busy:
                    said_busy = True
                    self.run.recorder.note(
                        f"the merchant still said it was at work {WORK_LIMIT_SECONDS:g} s into the settle window "
                        f"of order {order_id}: read as it was",
                        "settle window",
                    )
                current = self.order(order_id)
                if done is not None and done(current):
                    break
            return current
        deadline = time.monotonic() + (window if move_clock else real)
        while time.monotonic() < deadline and not (done is not None and done(current)):
            time.sleep(REAL_POLL_SECONDS)
            current = self.order(order_id)
        return current

    # -- playing the gateway ------------------------------------------------------------------------------

    @property
    def signs(self) -> bool:
        return self.scheme != "none"

    @property
    def registers_receiver(self) -> bool:
        return self.endpoints.registers_receiver

    def require_lost_webhook(self) -> None:
        """Only a gateway paycert can keep from calling the merchant lets it stage a webhook that never comes."""
        if self.profile.webhooks.get("delivery") == "per-payment":
            raise NotApplicable(
                f"{self.client.id} sends each payment's webhook to the URL the merchant gives with it, so paycert "
                "cannot stage a webhook that never arrives"
            )
        if self.registers_receiver:
            raise NotApplicable(
                f"the merchant registers its own receiver at {self.client.id} (the target says so), so the "
                "gateway's webhook reaches it: paycert cannot stage one that never arrives"
            )

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

    def unknown_payment_id(self, like: str) -> str:
        """A payment id of this gateway's shape (prefix, length, digits or not) that nobody created."""
        head = "".join(c for c in like[: like.find("_") + 1]) if "_" in like else ""
        rest = like[len(head) :]
        if rest.isdigit():
            return head + str(secrets.randbelow(9 * 10 ** (len(rest) - 1)) + 10 ** (len(rest) - 1))
        return head + secrets.token_hex(max(len(rest) // 2, 8))[: max(len(rest), 8)]

    def webhook_documents(self) -> SearchStrategy[dict[str, Any]]:
        """Every webhook body this gateway's schema allows, as a hypothesis strategy."""
        if not self.webhook_schema:
            raise NotApplicable(f"{self.client.id}'s profile names no webhook schema to draw bodies from")
        # Imported here: hypothesis costs every run that never generates a webhook document ~0.07 s.
        from paycert.webhooks.strategies import webhook_documents

        return webhook_documents(self.webhook_schema)

    def send(
        self,
        body: Mapping[str, Any] | bytes,
        mode: Mode = "signed",
        *,
        msg_id: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Sent:
        return self.sender.send(
            body, mode, msg_id=msg_id, query=query, label=f"paycert as {self.client.id}: webhook ({mode})"
        )

    def _record(self, label: str, headers: Mapping[str, str], body: bytes, sent: Sent, to: str) -> None:
        r = self.run.redactor
        request_body = r.text(body.decode("utf-8", "replace"))
        safe_headers = r.headers(dict(headers))
        url = r.url(to)
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

    def paid(self, order: Mapping[str, Any]) -> dict[str, Any]:
        """A completion about a payment really paid at the gateway: a merchant that reads the status back
        (seed 000 §5) sees COMPLETED, as it would in production."""
        self.pay(order)
        return self.event(order)

    # -- the merchant's push channel (seed 004 §3.2) -------------------------------------------------------

    def watch(self, order: Mapping[str, Any]) -> OrderWatch:
        if not self.target.push_url:
            raise NotApplicable(
                "the merchant declares no push channel (the target names no merchant.push_url)"
            )
        url = self.target.push_url.replace("{orderId}", str(order["orderId"]))
        return OrderWatch(url, self.target.timeout_seconds, ca_file=self.target.ca_file)

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


class MerchantWork:
    """The merchant's control endpoint (`GET {base_url}/_paycert/work`, optional): whether anything it has
    taken in (a request it is handling, a queued delivery, a status job running or due) can still change an
    order. A merchant without it (404, or no readable answer) is asked once and then given real time."""

    def __init__(self, url: str, ca_file: Path | None, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.offered = True  # until the merchant answers otherwise
        self._client: httpx.Client | None = None
        self._verify = verifier(ca_file)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def until_idle(self, limit: float) -> bool | None:
        """True once the merchant says it is idle; False if it still says it is at work at `limit` (a moment
        on the monotonic clock); None if it offers no such endpoint."""
        pause, longest = WORK_POLL_SECONDS
        while (idle := self._idle()) is False and time.monotonic() < limit:
            time.sleep(pause)
            pause = min(pause * 2, longest)
        return idle

    def _idle(self) -> bool | None:
        if not self.offered:
            return None
        if self._client is None:
            self._client = bounded_client(verify=self._verify)
        try:
            with within(self.timeout):
                response = self._client.get(self.url)
            answer = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            answer = None
        idle = answer.get("idle") if isinstance(answer, dict) else None
        if not isinstance(idle, bool):
            # Not offered (404), or an answer that says nothing: real time it is, for the rest of the test.
            self.offered = False
            return None
        return idle


class OrderWatch:
    """A browser's WebSocket to the merchant: every status the merchant pushes for one order."""

    def __init__(self, url: str, timeout: float, *, ca_file: Path | None = None) -> None:
        self.url = url
        self.seen: list[str] = []
        # Over wss:// the merchant's certificate is verified like its HTTPS: against its ca_file if it names
        # one (the embedded sandbox's generated CA), else the system trust store.
        context = context_for(ca_file) if ca_file and url.startswith("wss:") else None
        self._socket: ClientConnection = connect(url, open_timeout=timeout, ssl=context)

    def __enter__(self) -> OrderWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.close()

    def until(self, status: str, seconds: float) -> list[str]:
        """The statuses pushed until `status` came or `seconds` ran out (the socket buffers what came early)."""
        deadline = time.monotonic() + seconds
        while status not in self.seen and (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self._socket.recv(timeout=left))
            except (TimeoutError, WebSocketException, ValueError):
                break
            if isinstance(message, dict) and "status" in message:
                self.seen.append(str(message["status"]))
        return self.seen


@pytest.fixture
def merchant(paycert_run: RunState, gateway: GatewayClient) -> Iterator[MerchantHarness]:
    """The target's merchant integration, with paycert playing this gateway against it."""
    target = paycert_run.target.merchant
    if target is None:
        raise NotApplicable("the target names no merchant integration (its `merchant:` section)")
    harness = MerchantHarness(paycert_run, gateway, target)
    yield harness
    harness.close()
