"""The shopper's decisions, shared by both drivers: which form to fill on the page in front of it.

A driver looks at a page, tells the journey whether the challenge form and the payment form are there (and,
on a journey with another payment method, whether that method's button and its own page's buttons are), and
gets back what to do. Each form is submitted once: a gateway that shows the payment page again after paying
(a decline) or the challenge again (a wrong password) ends the journey there, unlanded, for the checks to see.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass

from paycert.redaction import redact_text, redact_url
from paycert.shopper.driver import Card, ChallengeSpec, MethodSpec, PageSpec, ShopperOutcome
from paycert.shopper.errors import NeedsBrowserError, ShopperError


class Action(enum.Enum):
    PAY = "payment"  # fill the card fields and press the pay button
    CANCEL = "cancel"  # press the hosted page's cancel button
    CHALLENGE = "challenge"  # type the password and press submit
    CHALLENGE_CANCEL = "challenge-cancel"  # press the challenge's cancel button
    METHOD = "method"  # press the hosted page's button of another payment method (a wallet)
    METHOD_APPROVE = "method-approve"  # press approve on that method's own page
    METHOD_CANCEL = "method-cancel"  # press cancel there
    STOP = "stop"  # nothing left to do on this page: the journey ends unlanded


@dataclass
class Journey:
    page: PageSpec
    challenge: ChallengeSpec | None = None
    password: str | None = None
    cancel_payment: bool = False
    cancel_challenge: bool = False
    card: Card | None = None
    method: MethodSpec | None = None  # pay with this method of the page instead of the card form
    approve_method: bool = True
    paid: bool = False
    challenged: bool = False
    answered: bool = False

    def secrets(self) -> list[str]:
        """What this journey types that no evidence may show."""
        typed = (*(self.card.secrets() if self.card else ()), self.password or "")
        return [value for value in typed if value]

    def redact(self, url: str) -> str:
        """The URL as evidence may show it: paycert's redaction, told what this journey types."""
        return redact_url(url, self.secrets())

    def redact_text(self, text: str) -> str:
        return redact_text(text, self.secrets())

    def next(
        self,
        where: str,
        *,
        has_challenge: bool,
        has_payment: bool,
        has_method: bool = False,
        has_method_page: bool = False,
    ) -> Action:
        """What to do on the page at `where` (a redacted URL, for messages). `has_method`: the page has the
        journey's method button; `has_method_page`: it has that method's approve or cancel button."""
        if self.method is not None:
            return self._next_for_method(self.method, where, has_method, has_method_page)
        if has_challenge and self.challenge is not None:
            self.challenged = True
            if self.answered:
                return Action.STOP
            self.answered = True
            if self.cancel_challenge:
                if self.challenge.cancel is None:
                    raise ShopperError(
                        "asked to cancel the challenge, but the profile names no cancel button"
                    )
                return Action.CHALLENGE_CANCEL
            if self.password is None:
                raise ShopperError(f"{where}: a challenge page appeared and no password was given")
            return Action.CHALLENGE
        if self.paid or self.page.kind == "direct":
            return Action.STOP
        if not has_payment:
            raise ShopperError(f"{where}: no payment form matching {self.page.form or 'form'!r}")
        self.paid = True
        if self.cancel_payment:
            if self.page.cancel is None:
                raise ShopperError(
                    "asked to cancel, but the profile names no cancel button on the hosted page"
                )
            return Action.CANCEL
        return Action.PAY

    def _next_for_method(
        self, method: MethodSpec, where: str, has_method: bool, has_method_page: bool
    ) -> Action:
        if not self.paid:
            if not has_method:
                raise ShopperError(f"{where}: no {method.name} button matching {method.select!r}")
            self.paid = True
            return Action.METHOD
        if self.answered or not has_method_page:
            # The method's page never came (or came again after its answer): the gateway's doing, so the
            # journey ends here, unlanded, for the checks to see where the shopper was left.
            return Action.STOP
        self.answered = True
        if self.approve_method:
            return Action.METHOD_APPROVE
        if method.cancel is None:
            raise ShopperError(
                f"asked to cancel {method.name}, but the profile names no cancel button for it"
            )
        return Action.METHOD_CANCEL


class JourneyWalker(ABC):
    """What both drivers share: paying and cancelling are journeys; each driver walks one its own way."""

    runs_scripts: bool = False  # whether pages run their JavaScript for this driver

    def pay(
        self,
        entry_url: str,
        card: Card,
        page: PageSpec,
        *,
        challenge: ChallengeSpec | None = None,
        password: str | None = None,
        cancel_challenge: bool = False,
        return_prefix: str,
    ) -> ShopperOutcome:
        journey = Journey(page, challenge, password, cancel_challenge=cancel_challenge, card=card)
        return self._walk(entry_url, journey, return_prefix)

    def cancel(self, entry_url: str, page: PageSpec, *, return_prefix: str) -> ShopperOutcome:
        return self._walk(entry_url, Journey(page, cancel_payment=True), return_prefix)

    def pay_with(
        self, entry_url: str, page: PageSpec, method: str, *, approve: bool = True, return_prefix: str
    ) -> ShopperOutcome:
        spec = page.method(method)
        if spec.browser and not self.runs_scripts:
            raise NeedsBrowserError(
                f"the pages of {spec.name} need JavaScript (profile: browser: true); this shopper runs none"
            )
        journey = Journey(page, method=spec, approve_method=approve)
        return self._walk(entry_url, journey, return_prefix)

    @abstractmethod
    def _walk(self, entry_url: str, journey: Journey, return_prefix: str) -> ShopperOutcome:
        """Follow `journey` from `entry_url` until the shopper is back at `return_prefix` or it ends."""
