"""A checkout as a scenario sees it: the merchant creates a payment, the shopper pays or cancels, and
the return URL, the status API and the webhooks say what happened."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from paycert.core.errors import NotApplicable, PaycertError, ProfileError
from paycert.core.evidence import Attachment
from paycert.core.states import PaymentState
from paycert.gateways.client import ApiResult, GatewayClient, Payment
from paycert.plugin.inbox import WebhookEvent, WebhookInbox
from paycert.plugin.live_webhooks import require_webhooks
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.shopper import (
    BrowserShopper,
    Card,
    ChallengeSpec,
    PageSpec,
    ShopperDriver,
    ShopperError,
    ShopperOutcome,
)
from paycert.shopper.driver import MethodSpec
from paycert.targets.templates import fill
from paycert.webhooks.fields import read_field
from paycert.webhooks.sink import WebhookSink

DEFAULT_AMOUNT = Decimal("10.00")


@dataclass
class CheckoutResult:
    """What one checkout gave."""

    payment: Payment
    card_name: str | None
    shopper: ShopperOutcome | None
    finished_at: float
    returned_status: str | None = None
    returned_state: PaymentState | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def challenged(self) -> bool:
        return bool(self.shopper and self.shopper.challenged)


@dataclass
class Invoice:
    """An invoice this run created (`create_invoice`), and the payment link the shopper pays it through."""

    id: str
    link: str
    amount: Decimal
    currency: str
    reference: str
    # Not in repr: assertion messages quote invoices, and the context holds the credentials' values.
    context: dict[str, Any] = field(repr=False)
    created: ApiResult = field(repr=False)

    def __str__(self) -> str:
        return f"invoice {self.id}"


class Checkout:
    """Creates payments on one gateway and plays the shopper on its pages."""

    def __init__(
        self,
        client: GatewayClient,
        shopper: ShopperDriver,
        sink: WebhookSink,
        webhook_url: str,
        *,
        link_browser: Callable[[Path | None], BrowserShopper],
        run_dir: Path | None = None,
    ) -> None:
        self.client = client
        self.shopper = shopper
        # Where a journey that needs Chromium gets it, by CA file (RunState.link_browser: one for the session).
        self._link_browser = link_browser
        self.sink = sink
        self.webhook_url = webhook_url
        self.profile = client.profile
        # Screenshots are evidence of the run folder: named relative to it, so the report finds them wherever
        # --report-dir is (relative or absolute) and whatever the current directory.
        self._run_dir = run_dir

    # -- cards ----------------------------------------------------------------------------------------------

    def card_for(self, outcome: str) -> tuple[str, Card]:
        found = self.profile.card_with_outcome(outcome)
        if found is None:
            raise NotApplicable(f"{self.client.id} lists no test card with outcome {outcome}")
        name, entry = found
        return name, Card.from_profile(entry)

    def card_context(self, card: Card) -> dict[str, Any]:
        return card.request_context()

    @property
    def is_direct(self) -> bool:
        return self.profile.shopper.get("kind") == "direct"

    def return_url(self, reference: str) -> str:
        return f"{self.sink.url}/return/{self.client.id}/{reference}"

    # -- creating -------------------------------------------------------------------------------------------

    def new_reference(self) -> str:
        """A fresh merchant reference, known before the payment exists (to arm the sink for its webhooks)."""
        return f"PC-{uuid.uuid4().hex[:12].upper()}"

    def create(
        self,
        amount: Decimal | str = DEFAULT_AMOUNT,
        card: Card | None = None,
        *,
        reference: str | None = None,
        operation: str = "create_payment",
        idempotency_key: str | None = None,
        currency: str = "EUR",
        **extra: Any,
    ) -> Payment:
        """Create a payment the way the profile says; a direct gateway gets the card in the request.

        `operation` is the card operation that makes it (`authorize` for a payment only held). The same
        `reference` and `idempotency_key` (and amount and card) send the same request again."""
        context_card = self.card_context(card) if (card is not None and self.is_direct) else None
        ref = reference or self.new_reference()
        return self.client.create_payment(
            amount,
            card=context_card,
            return_url=self.return_url(ref),
            notification_url=self.webhook_url,
            operation=operation,
            extra={"reference": ref, **extra},
            idempotency_key=idempotency_key,
            currency=currency,
        )

    def card_operation(
        self,
        operation: str,
        outcome: str = "COMPLETED",
        amount: Decimal | str = DEFAULT_AMOUNT,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Payment:
        """A payment made by a card operation other than the default create (authorize, recurring initial);
        `headers` are sent with it (an Accept that asks for XML)."""
        self.client.require(operation)
        _, card = self.card_for(outcome)
        ref = self.new_reference()
        return self.client.create_payment(
            amount,
            card=self.card_context(card),
            return_url=self.return_url(ref),
            notification_url=self.webhook_url,
            operation=operation,
            extra={"reference": ref},
            headers=headers,
        )

    def operation_with(
        self, operation: str, amount: Decimal | str = DEFAULT_AMOUNT, **values: Any
    ) -> ApiResult:
        """A stand-alone operation (tokenize, pay with token, payout) with the success card in its context."""
        self.client.require(operation)
        _, card = self.card_for("COMPLETED")
        context = self.client.new_context(
            amount, card=self.card_context(card), notification_url=self.webhook_url
        )
        context["return_url"] = self.return_url(str(context["reference"]))
        context.update(values)
        return self.client.call(operation, context, headers={"Idempotency-Key": uuid.uuid4().hex})

    def state_in(self, result: ApiResult) -> PaymentState | None:
        """The canonical state an operation's answer reports (its `status` result)."""
        status = result.get("status")
        return self.profile.state_of(status) if status is not None else None

    def attempt_create(
        self,
        amount: Decimal | str | float,
        card: Card | None = None,
        *,
        authenticated: bool = True,
        token: str | None = None,
        verbatim: bool = False,
        currency: str = "EUR",
    ) -> ApiResult:
        """Try to create a payment and return the gateway's answer, accepted or not.

        `verbatim` sends the amount exactly as given, not formatted the gateway's way (to test bad amounts).
        """
        context = self.client.new_context(
            amount,
            currency=currency,
            card=self.card_context(card) if card else None,
            notification_url=self.webhook_url,
        )
        context["return_url"] = self.return_url(str(context["reference"]))
        if verbatim:
            context["amount"] = amount
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        return self.client.call(
            "create_payment", context, authenticated=authenticated, token=token, headers=headers
        )

    def entry_url(self, payment: Payment) -> str | None:
        """Where the shopper goes: the redirect URL of the create response, or the profile's template."""
        entry = self.profile.shopper.get("entry", "redirect_url")
        if entry == "redirect_url":
            return payment.redirect_url
        filled = fill(entry, {**self.client.base_context(), **payment.context})
        return str(filled)

    # -- paying ---------------------------------------------------------------------------------------------

    def pay(
        self,
        outcome: str = "COMPLETED",
        *,
        password: str | None = None,
        amount: Decimal | str = DEFAULT_AMOUNT,
        reference: str | None = None,
        operation: str = "create_payment",
        currency: str = "EUR",
    ) -> CheckoutResult:
        """Pay with the profile's test card for `outcome` (COMPLETED, FAILED or CHALLENGE), the shopper
        passing 3-D Secure where the card asks for it; `operation` makes the payment (`authorize`: held, to
        be captured later)."""
        card_name, card = self.card_for(outcome)
        payment = self.create(amount, card, reference=reference, operation=operation, currency=currency)
        challenge = ChallengeSpec.from_profile(self.profile.challenge)
        if password is None and self.profile.challenge:
            password = self.profile.challenge["password"]
        entry = self.entry_url(payment)
        shopper_outcome: ShopperOutcome | None = None
        if entry:
            shopper_outcome = self.shopper.pay(
                entry,
                card,
                PageSpec.from_profile(self.profile.shopper),
                challenge=challenge,
                password=password,
                return_prefix=self.return_url(payment.reference),
            )
        elif not self.is_direct:
            raise AssertionError(f"{payment} has no hosted page to pay on (no redirect URL in the answer)")
        return self._finish(payment, card_name, shopper_outcome)

    def cancel(self, amount: Decimal | str = DEFAULT_AMOUNT) -> CheckoutResult:
        """The shopper leaves with the page's cancel button (the challenge's, for direct gateways)."""
        page = PageSpec.from_profile(self.profile.shopper)
        if page.cancel and not self.is_direct:
            payment = self.create(amount)
            entry = self.entry_url(payment)
            if not entry:
                raise AssertionError(f"{payment} has no hosted page to cancel on")
            outcome = self.shopper.cancel(entry, page, return_prefix=self.return_url(payment.reference))
            return self._finish(payment, None, outcome)
        challenge = ChallengeSpec.from_profile(self.profile.challenge)
        if challenge is None or not challenge.cancel:
            raise NotApplicable(
                f"{self.client.id}: neither its payment page nor a challenge page has a cancel button"
            )
        card_name, card = self.card_for("CHALLENGE")
        payment = self.create(amount, card)
        entry = self.entry_url(payment)
        if not entry:
            raise AssertionError(f"{payment} with the challenge card did not lead to a challenge page")
        outcome = self.shopper.pay(
            entry,
            card,
            page,
            challenge=challenge,
            cancel_challenge=True,
            return_prefix=self.return_url(payment.reference),
        )
        return self._finish(payment, card_name, outcome)

    # -- other payment methods of the hosted page (wallets) ---------------------------------------------------

    def wallets(self) -> dict[str, MethodSpec]:
        """The hosted page's payment methods besides the card form, by name (profile `shopper.methods`); not
        applicable, for the profile's `unsupported.wallet` reason, where it lists none."""
        methods = PageSpec.from_profile(self.profile.shopper).methods
        if not methods or self.is_direct:
            raise NotApplicable(
                self.profile.unsupported.get("wallet")
                or f"{self.client.id}'s hosted page offers no method besides the card (profile shopper.methods)"
            )
        return methods

    def pay_with(
        self,
        method: str,
        *,
        approve: bool = True,
        amount: Decimal | str = DEFAULT_AMOUNT,
        currency: str = "EUR",
    ) -> CheckoutResult:
        """The shopper pays with the hosted page's method `method` (a wallet, see `wallets`): picks it on the
        page, then approves on the method's own page, or cancels there when not `approve`."""
        spec = self.wallets().get(method)
        if spec is None:
            raise NotApplicable(f"{self.client.id}'s hosted page has no payment method {method!r}")
        if spec.browser and not self.shopper.runs_scripts:
            # Checked before a payment is made: none is left open for a journey that cannot be walked.
            pytest.skip(
                f"{NOT_EVALUATED_PREFIX}{self.client.id}: the pages of {method} need JavaScript "
                "(profile: browser: true); run with --browser"
            )
        payment = self.create(amount, currency=currency)
        entry = self.entry_url(payment)
        if not entry:
            raise AssertionError(f"{payment} has no hosted page to pay on (no redirect URL in the answer)")
        outcome = self.shopper.pay_with(
            entry,
            PageSpec.from_profile(self.profile.shopper),
            method,
            approve=approve,
            return_prefix=self.return_url(payment.reference),
        )
        return self._finish(payment, None, outcome)

    def method_of(self, payment: Payment) -> str | None:
        """How the status API says `payment` was paid (get_payment's `method` result); it also refreshes the
        payment's state. A profile that does not say where the method is cannot have a wallet certified."""
        if not self.client.reads("get_payment", "method"):
            raise AssertionError(
                f"{self.client.id}: get_payment has no `method` result pointer, so how a payment was paid "
                "cannot be read back"
            )
        result = self.client.refresh(payment)
        if not result.ok:
            raise PaycertError(f"{self.client.id}: status of {payment.id} answered HTTP {result.status}")
        method = result.get("method")
        return None if method is None else str(method)

    def method_in(self, event: WebhookEvent) -> str | None:
        """How a webhook says its payment was paid (the profile's `webhooks.method` pointer)."""
        if not self.profile.webhooks.get("method"):
            raise AssertionError(
                f"{self.client.id}: the profile's webhooks name no `method` pointer, so how a payment was paid "
                "cannot be read from a webhook"
            )
        method = read_field(
            self.profile.webhooks, "method", event.body, event.delivery.headers, event.event_type
        )
        return None if method is None else str(method)

    def _in_run_dir(self, shot: Path | str) -> str:
        path = Path(shot).resolve()
        if self._run_dir is not None and path.is_relative_to(self._run_dir.resolve()):
            return str(path.relative_to(self._run_dir.resolve()))
        return str(shot)

    def _finish(
        self, payment: Payment, card_name: str | None, outcome: ShopperOutcome | None
    ) -> CheckoutResult:
        result = CheckoutResult(payment, card_name, outcome, finished_at=time.time())
        if outcome is not None:
            for shot in outcome.screenshots:
                self.client.recorder.log.add(
                    Attachment(self._in_run_dir(shot), "image/png", "shopper screenshot")
                )
            status_param = self.profile.return_url.get("status")
            if outcome.landed and status_param:
                returned = outcome.return_query.get(status_param)
                result.returned_status = returned
                result.returned_state = self.profile.state_of(returned) if returned else None
            if outcome.landed:
                query = dict(parse_qsl(urlsplit(outcome.final_url).query))
                self.client.recorder.note(
                    f"shopper returned to the merchant with {sorted(query)}", "return URL"
                )
        return result

    # -- invoices and their payment links --------------------------------------------------------------------

    def create_invoice(self, amount: Decimal | str = DEFAULT_AMOUNT, currency: str = "EUR") -> Invoice:
        """An invoice for the shopper and its payment link (`create_invoice`, `shopper.link_page`); not
        applicable, with the profile's `unsupported` reason, where the gateway has no invoice."""
        self.client.require("create_invoice")
        page = self.profile.link_page
        if page is None:
            raise ProfileError(
                f"{self.client.id}: create_invoice is offered, but shopper.link_page is missing"
            )
        reference = self.new_reference()
        context = self.client.new_context(
            amount,
            currency=currency,
            return_url=self.return_url(reference),
            notification_url=self.webhook_url,
            reference=reference,
        )
        created = self.client.call(
            "create_invoice", context, headers={self.client.idempotency_header: uuid.uuid4().hex}
        )
        assert created.ok, f"creating an invoice of {amount} {currency} was refused (HTTP {created.status})"
        invoice_id = created.get("invoice_id")
        assert invoice_id not in (None, ""), (
            "the create_invoice answer names no invoice (the profile's invoice_id pointer)"
        )
        context["created"] = created.answer.body  # {created.<field>} in get_invoice and link templates
        entry = str(page.get("entry", "link"))
        link = (
            created.get("link") if entry == "link" else fill(entry, {**self.client.base_context(), **context})
        )
        assert link, "the create_invoice answer has no payment link (the profile's link pointer)"
        return Invoice(
            id=str(invoice_id),
            link=str(link),
            amount=self.client.guard.cap(Decimal(str(amount))),
            currency=currency,
            reference=reference,
            context=context,
            created=created,
        )

    def read_invoice(self, invoice: Invoice) -> ApiResult:
        """The invoice as the gateway reads it back (`get_invoice`)."""
        return self.client.call("get_invoice", invoice.context, label=f"read {invoice} back")

    def pay_link(self, invoice: Invoice, outcome: str = "COMPLETED") -> ShopperOutcome:
        """The shopper opens the invoice's payment link in Chromium and pays with the profile's test card for
        `outcome`, passing 3-D Secure where the card asks for it. Always a real browser: a payment link is
        opened from an email, in the customer's own browser, with nothing of the merchant's site before it."""
        page = self.profile.link_page
        if page is None:
            raise ProfileError(f"{self.client.id}: the profile has no shopper.link_page to pay a link on")
        _, card = self.card_for(outcome)
        challenge = ChallengeSpec.from_profile(self.profile.challenge)
        password = self.profile.challenge["password"] if self.profile.challenge else None
        with self._real_browser(f"payment-link-{self.client.id}-{invoice.reference}") as browser:
            shopper = browser.pay(
                invoice.link,
                card,
                PageSpec.from_profile(page),
                challenge=challenge,
                password=password,
                return_prefix=self.return_url(invoice.reference),
            )
        for shot in shopper.screenshots:
            self.client.recorder.log.add(Attachment(self._in_run_dir(shot), "image/png", "payment link page"))
        return shopper

    def invoice_payment(self, invoice: Invoice, read: ApiResult) -> Payment | None:
        """The payment that paid the invoice, as its read-back names it (get_invoice's `payment_id`); None
        when it names none."""
        payment_id = read.get("payment_id")
        if payment_id in (None, ""):
            return None
        payment = Payment(
            gateway=self.client.id,
            id=str(payment_id),
            amount=invoice.amount,
            currency=invoice.currency,
            reference=invoice.reference,
            context={**invoice.context, "payment_id": str(payment_id)},
            created=read,
        )
        if self.client.target.is_live and all(p.id != payment.id for p in self.client.created):
            # Paid in the browser, not by an API call of the client: a live run undoes it like its own.
            self.client.created.append(payment)
        return payment

    @contextmanager
    def _real_browser(self, journey: str) -> Iterator[ShopperDriver]:
        """The shopper when it is Chromium (--browser, or the phone), else the session's Chromium for pages
        only a real browser can pay, its screenshots of this `journey` in a folder of their own; where Chromium
        cannot start, the scenario is not evaluated (never passed)."""
        if isinstance(self.shopper, BrowserShopper):
            yield self.shopper
            return
        browser = self._link_browser(self.client.target.ca_file)
        browser.screenshot_dir = (
            self._run_dir / "screenshots" / journey if self._run_dir is not None else None
        )
        try:
            browser.start()
        except (ShopperError, ImportError) as exc:
            pytest.skip(f"{NOT_EVALUATED_PREFIX}paying through a payment link needs Chromium: {exc}")
        try:
            yield browser
        finally:
            browser.screenshot_dir = None  # the session's browser: the next journey names its own folder

    # -- reading back ---------------------------------------------------------------------------------------

    def status(self, payment: Payment) -> PaymentState | None:
        return self.client.state_of(payment)

    def webhooks(self, payment: Payment) -> WebhookInbox:
        require_webhooks(self.client)
        return WebhookInbox(self.client, self.sink, payment)
