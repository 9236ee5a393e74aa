"""A checkout as a scenario sees it: the merchant creates a payment, the shopper pays or cancels, and
the return URL, the status API and the webhooks say what happened."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from paycert.core.errors import NotApplicable
from paycert.core.evidence import Attachment
from paycert.core.states import PaymentState
from paycert.gateways.client import ApiResult, GatewayClient, Payment
from paycert.plugin.inbox import WebhookInbox
from paycert.plugin.live_webhooks import require_webhooks
from paycert.shopper import Card, ChallengeSpec, PageSpec, ShopperDriver, ShopperOutcome
from paycert.targets.templates import fill
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


class Checkout:
    """Creates payments on one gateway and plays the shopper on its pages."""

    def __init__(
        self,
        client: GatewayClient,
        shopper: ShopperDriver,
        sink: WebhookSink,
        webhook_url: str,
        run_dir: Path | None = None,
    ) -> None:
        self.client = client
        self.shopper = shopper
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
        **extra: Any,
    ) -> Payment:
        """Create a payment the way the profile says; a direct gateway gets the card in the request."""
        context_card = self.card_context(card) if (card is not None and self.is_direct) else None
        ref = reference or self.new_reference()
        return self.client.create_payment(
            amount,
            card=context_card,
            return_url=self.return_url(ref),
            notification_url=self.webhook_url,
            extra={"reference": ref, **extra},
        )

    def card_operation(
        self, operation: str, outcome: str = "COMPLETED", amount: Decimal | str = DEFAULT_AMOUNT
    ) -> Payment:
        """A payment made by a card operation other than the default create (authorize, recurring initial)."""
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
    ) -> ApiResult:
        """Try to create a payment and return the gateway's answer, accepted or not.

        `verbatim` sends the amount exactly as given, not formatted the gateway's way (to test bad amounts).
        """
        context = self.client.new_context(
            amount, card=self.card_context(card) if card else None, notification_url=self.webhook_url
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
    ) -> CheckoutResult:
        """Pay with the profile's test card for `outcome` (COMPLETED, FAILED or CHALLENGE)."""
        card_name, card = self.card_for(outcome)
        payment = self.create(amount, card, reference=reference)
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

    # -- reading back ---------------------------------------------------------------------------------------

    def status(self, payment: Payment) -> PaymentState | None:
        return self.client.state_of(payment)

    def webhooks(self, payment: Payment) -> WebhookInbox:
        require_webhooks(self.client)
        return WebhookInbox(self.client, self.sink, payment)
