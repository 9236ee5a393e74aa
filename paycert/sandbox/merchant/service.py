"""The reference merchant's behaviour, apart from HTTP routing: checkout, webhook handling, the return
URL, and the background jobs (status polling for payments pending too long, expiry).

Seed 004 is followed step by step; where it is silent, seed 000 (verify the signature, then verify the
payment through the status API) and FACTS.md (an unsigned gateway's payments are confirmed by reading
them back) decide.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Coroutine, Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from paycert.sandbox.egress import guarded_client
from paycert.sandbox.merchant.adapters import (
    ADAPTERS,
    WEBHOOK_SECRETS,
    Adapter,
    GatewayRefused,
    Reading,
    parse_json,
)
from paycert.sandbox.merchant.orders import CANCELLED, PAID, PENDING, Order, OrderBook, same_money
from paycert.sandbox.state import SandboxState
from paycert.webhooks.signatures import get_scheme

log = logging.getLogger("paycert.sandbox.merchant")

PREFIX = "/merchant"
# Seed 004 §2: payments still pending after 15 minutes are checked with the gateway, once a minute.
POLL_AFTER_SECONDS = 15 * 60
POLL_EVERY_SECONDS = 60
# The fault merchant-slow-ack answers a completion this late: past every built-in gateway's 5 s timeout.
SLOW_ACK_SECONDS = 6.0
_CONFIG_KIND = "merchant.config"


class Rejected(Exception):
    """A webhook the merchant refuses (answered 400, nothing changes)."""


class Merchant:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.book = OrderBook(state)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: set[str] = set()
        self._tasks: set[concurrent.futures.Future[None]] = set()
        self._handling = 0  # requests being handled that may change an order (checkout, webhook, return)

    # -- where the gateways are ---------------------------------------------------------------------------

    def remember(self, base: str) -> None:
        """The sandbox's own base URL as a caller reached it: the merchant reaches the gateways there."""
        self._loop = asyncio.get_running_loop()
        if self.base() != base:
            self.state.store.put(_CONFIG_KIND, "base", {"url": base})

    def base(self) -> str | None:
        saved = self.state.store.get(_CONFIG_KIND, "base")
        return str(saved["url"]) if saved else None

    def http(self) -> httpx.AsyncClient:
        ca = self.state.config.data_dir / "tls" / "ca.pem"
        return guarded_client(
            self.state.config.egress_hosts, verify=str(ca) if ca.exists() else True, timeout=10.0
        )

    # -- seed 004 §1: initiate ----------------------------------------------------------------------------

    async def checkout(self, gateway: str, amount: Decimal, currency: str, card: Mapping[str, str]) -> Order:
        adapter = ADAPTERS[gateway]
        base = self._base()
        order = self.book.open(gateway, amount, currency)
        return_url = f"{base}{PREFIX}/return/{gateway}?orderId={order['orderId']}"
        notify_url = f"{base}{PREFIX}/webhooks/{gateway}"
        try:
            async with self.http() as http:
                created = await adapter.create(http, base, order, return_url, notify_url, dict(card))
        except (GatewayRefused, httpx.HTTPError) as exc:
            self.book.apply(order["orderId"], "FAILED", "checkout", f"the gateway refused the payment: {exc}")
            raise GatewayRefused(str(exc)) from None
        return self.book.attach_payment(order["orderId"], created.payment_id, created.payment_url, return_url)

    # -- seed 004 §3.1: the webhook callback --------------------------------------------------------------

    async def webhook(self, gateway: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        adapter = ADAPTERS[gateway]
        self._verify(adapter, body, headers)
        document = parse_json(body)
        if document is None:
            raise Rejected("the body is not a JSON object")
        try:
            notice = adapter.webhook(document)
        except (KeyError, TypeError, ValueError):
            raise Rejected("the body is not a notification of this gateway") from None
        if not notice.payment_id:
            raise Rejected("the notification names no payment")
        order = self.book.by_payment(gateway, notice.payment_id)
        if order is None and self.state.faults.active("merchant-adopts-unknown-payment"):
            order = self._adopt(gateway, notice)
        if order is None:
            return {"received": True, "note": "not a payment of this merchant"}
        if adapter.scheme == "none" and not self.state.faults.active("merchant-no-confirm"):
            # Nobody signed it: the status API, not the body, says what happened (FACTS.md, paylican).
            notice = await self._read(adapter, notice.payment_id)
        settled = self._settle(order, notice, "webhook")
        if self.state.faults.active("merchant-slow-ack") and settled["fulfilments"] > order["fulfilments"]:
            # The fault: the receiver does its slow work (mail, ERP) before answering, past the timeout.
            await asyncio.sleep(SLOW_ACK_SECONDS)
        return {"received": True}

    def _adopt(self, gateway: str, notice: Reading) -> Order:
        """The fault merchant-adopts-unknown-payment: an order made up for a payment it never created."""
        order = self.book.open(gateway, notice.amount or Decimal("0"), notice.currency or "EUR")
        return self.book.attach_payment(order["orderId"], str(notice.payment_id), None, "")

    def _verify(self, adapter: Adapter, body: bytes, headers: Mapping[str, str]) -> None:
        if adapter.scheme == "none" or self.state.faults.active("merchant-no-verify"):
            return
        verdict = get_scheme(adapter.scheme).verify(
            WEBHOOK_SECRETS[adapter.id], body, headers, now=int(self.state.clock.now())
        )
        if not verdict.ok:
            raise Rejected(f"invalid callback: {verdict.reason}")

    def _settle(self, order: Order, reading: Reading, source: str) -> Order:
        if reading.status is None:
            return self.book.note(
                order["orderId"], source, f"status {reading.vendor_status!r} changes nothing"
            )
        expiry = reading.status == CANCELLED and "EXPIRE" in str(reading.vendor_status).upper()
        if expiry and self.state.faults.active("merchant-no-expiry"):
            # The fault is a merchant with no notion of an order ending unpaid: it ignores the gateway's
            # expiry (webhook or status) as it ignores its own clock.
            return self.book.note(order["orderId"], source, f"status {reading.vendor_status!r} ignored")
        if (
            reading.status == PAID
            and not self.state.faults.active("merchant-ignores-amount")
            and not same_money(order, reading.amount, reading.currency)
        ):
            return self.book.note(
                order["orderId"],
                source,
                f"not fulfilled: paid {reading.amount} {reading.currency or ''} for an order of "
                f"{order['amount']} {order['currency']} (held for review)",
            )
        return self.book.apply(
            order["orderId"], reading.status, source, f"gateway status {reading.vendor_status}"
        )

    async def _read(self, adapter: Adapter, payment_id: str) -> Reading:
        async with self.http() as http:
            return await adapter.read(http, self._base(), payment_id)

    # -- seed 004 §3.1: "the user is redirected back, the app checks the payment status" -------------------

    async def returned(self, gateway: str, order_id: str, query: Mapping[str, str]) -> Order | None:
        order = self.book.get(order_id)
        if order is None or order["gateway"] != gateway or not order["paymentId"]:
            return None
        adapter = ADAPTERS[gateway]
        if self.state.faults.active("merchant-trusts-return-url"):
            claimed = adapter.statuses.get(query.get("status", ""))
            if claimed is not None:
                fake = Reading(
                    order["paymentId"], claimed, Decimal(order["amount"]), order["currency"], query["status"]
                )
                return self._settle(order, fake, "return URL")
        try:
            reading = await self._read(adapter, str(order["paymentId"]))
        except (GatewayRefused, httpx.HTTPError) as exc:
            return self.book.note(order_id, "return URL", f"status could not be read: {exc}")
        return self._settle(order, reading, "return URL (status API)")

    # -- seed 004 §2 and Additional Considerations: polling and expiry -------------------------------------

    def sweep(self) -> None:
        """Periodic job: poll payments pending too long, cancel unpaid ones past expiry."""
        with contextlib.suppress(RuntimeError):  # on the worker's loop; the clock endpoint runs in a thread
            self._loop = asyncio.get_running_loop()
        for order_id, expired in self._due():
            self._inflight.add(order_id)
            self._spawn(self._check(order_id, expired))

    def _due(self) -> list[tuple[str, bool]]:
        """The orders a sweep would check now, each with whether it is past its expiry."""
        if self._loop is None or self.base() is None:
            return []
        now = self.state.clock.now()
        polling = not self.state.faults.active("merchant-no-poll")
        # The fault merchant-no-expiry has no notion of an order ending unpaid: it does not even look.
        expiring = not self.state.faults.active("merchant-no-expiry")
        due: list[tuple[str, bool]] = []
        for order in self.book.pending():
            if not order["paymentId"] or order["orderId"] in self._inflight:
                continue
            expired = expiring and now >= float(order["expiresAt"])
            last = order["polledAt"]
            poll = now - float(order["createdAt"]) >= POLL_AFTER_SECONDS and (
                last is None or now - float(last) >= POLL_EVERY_SECONDS
            )
            if expired or (polling and poll):
                due.append((str(order["orderId"]), expired))
        return due

    # -- the control endpoint: whether the merchant is still at work --------------------------------------

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Around a request that may change an order: until it is answered, the merchant is at work."""
        self._handling += 1
        try:
            yield
        finally:
            self._handling -= 1

    def work(self) -> dict[str, Any]:
        """What could still change an order without anything new arriving or the clock moving: requests
        being handled (the slow-ack fault's late answer among them), status checks and expiries running, and
        those a sweep would start now. None of them: idle, and a certification may read its verdict."""
        running = self._handling + len(self._inflight)
        due = len(self._due())
        return {"idle": running == 0 and due == 0, "inFlight": running, "due": due}

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(job, self._loop)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def _check(self, order_id: str, expired: bool) -> None:
        try:
            order = self.book.get(order_id)
            if order is None or order["status"] != PENDING:
                return
            self.book.mark_polled(order_id)
            try:
                reading = await self._read(ADAPTERS[order["gateway"]], str(order["paymentId"]))
            except (GatewayRefused, httpx.HTTPError) as exc:
                # Info, not a warning: a poll that fails is tried again on the next tick (and at shutdown
                # every in-flight poll fails, which is no news to the person running paycert).
                log.info("polling order %s failed: %s", order_id, exc)
                reading = None
            if expired and self.state.faults.active("merchant-expiry-no-readback"):
                reading = None  # the fault: expiry goes by the order's age alone, not by the payment
            if reading is not None and reading.status not in (None, PENDING):
                order = self._settle(order, reading, "status polling")
            if expired and order["status"] == PENDING and not self.state.faults.active("merchant-no-expiry"):
                # Paid orders were settled just above: only a payment still unpaid is cancelled.
                self.book.apply(order_id, CANCELLED, "expiry", "unpaid 30 minutes after checkout")
        finally:
            self._inflight.discard(order_id)

    def _base(self) -> str:
        base = self.base()
        if base is None:
            raise GatewayRefused("the merchant does not know where the gateways are yet")
        return base
