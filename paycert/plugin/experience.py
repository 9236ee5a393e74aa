"""The experience suite's fixtures (002 §6): what a shopper sees on a phone, always in real Chromium.

These criteria are about what a person sees, so the pages are opened in Chromium whether or not the run has
`--browser`; where Chromium cannot start, the tests are not evaluated (never passed). Every page the phone
loads from the target is recorded as an exchange (it is a request the target answered), with its layout
findings as a note and its screenshot as an attachment the HTML report embeds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from paycert.core.errors import NotApplicable
from paycert.core.evidence import Attachment, Exchange, Note
from paycert.gateways.client import GatewayClient
from paycert.gateways.curl import curl_line
from paycert.plugin.checkout import Checkout
from paycert.plugin.merchant import MerchantHarness
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.shopper import BrowserShopper, Card, ChallengeSpec, PageSpec, ShopperError, ShopperOutcome
from paycert.shopper.messages import compile_wording
from paycert.shopper.mobile import PHONE, PageSeen, PhoneCheck
from paycert.targets.profile import Profile

__all__ = ["Experience", "MerchantPages", "experience", "merchant_pages"]

# Typed into the 3-D Secure page to fail it: any password but the profile's must fail the challenge.
WRONG_PASSWORD = "not-the-password-0"
HOSTED = ("payment", "challenge")


class PhoneBrowser:
    """The session's one Chromium on a phone screen, started when the first experience test needs it.

    Launching Chromium (and Playwright's driver) cost 0.5-1 s a test and was most of a short test's time; one
    browser serves every test, and each journey still gets a fresh browser context (no cookies, storage or
    cache from the one before), so sharing the process changes nothing a page sees. A Chromium that cannot
    start is remembered, so every later test is not evaluated at once instead of trying again.
    """

    def __init__(self, run: RunState) -> None:
        cas = [g.ca_file for g in run.target.gateways.values() if g.ca_file]
        if run.target.merchant is not None and run.target.merchant.ca_file:
            cas.append(run.target.merchant.ca_file)
        # A loaded machine (CI, or a run beside a load test) makes Chromium slow: pages get 30 s, not 10.
        self.driver = BrowserShopper(None, device=PHONE, ca_file=cas[0] if cas else None, timeout=30.0)
        self.failure: str | None = None

    def start(self) -> BrowserShopper:
        if self.failure is None:
            try:
                self.driver.start()
            except (ShopperError, ImportError) as exc:
                self.failure = str(exc)
        if self.failure is not None:
            pytest.skip(f"{NOT_EVALUATED_PREFIX}the experience suite needs Chromium: {self.failure}")
        return self.driver

    def close(self) -> None:
        self.driver.close()


_PHONE_BROWSER = pytest.StashKey[PhoneBrowser]()


def phone_browser(config: pytest.Config, run: RunState) -> PhoneBrowser:
    """The session's phone browser, closed when pytest unconfigures (after the report is written)."""
    if _PHONE_BROWSER not in config.stash:
        # Kept in the config's stash rather than as a session fixture: the plugin module registers only the
        # fixtures suites ask for by name, and this one is an implementation detail of those two.
        config.stash[_PHONE_BROWSER] = PhoneBrowser(run)
        config.add_cleanup(config.stash[_PHONE_BROWSER].close)
    return config.stash[_PHONE_BROWSER]


class ShopperScreen:
    """The phone's Chromium as one test uses it: what the test looks at goes into the test's evidence."""

    def __init__(self, run: RunState, name: str, phone: PhoneBrowser) -> None:
        self.run = run
        self.name = name
        self.phone = phone
        self.driver = phone.driver
        self._journeys = 0

    def start(self) -> ShopperScreen:
        self.phone.start()
        return self

    def close(self) -> None:
        # The browser outlives the test; only this test's observer is taken off it.
        self.driver.observer = None

    def watch(self, label: str, secrets: tuple[str, ...]) -> PhoneCheck:
        """A fresh observer for the next journey: its pages, measured and screenshotted."""
        self._journeys += 1
        shots = self.run.run_dir / "screenshots"
        check = PhoneCheck(shots, f"{self.name}-{self._journeys}-{label}", secrets)
        self.driver.observer = check
        return check

    def record(self, pages: list[PageSeen], what: str) -> None:
        """Each page the target served the phone: an exchange (a check against the target), the layout
        finding, and the screenshot."""
        log = self.run.recorder.log
        redactor = self.run.redactor
        for seen in pages:
            url = redactor.url(seen.url)
            log.add(
                Exchange(
                    method="GET",
                    url=url,
                    request_headers={},
                    request_body=None,
                    status=seen.status,
                    response_headers=redactor.headers(seen.headers),
                    response_body=None,
                    duration_ms=0.0,
                    curl=curl_line("GET", url, {}, None),
                    label=f"Chromium at {PHONE.width} px: {what}, {seen.label} page",
                )
            )
            log.add(Note(redactor.text(seen.summary()), "layout at 375 px"))
            if seen.screenshot is not None:
                log.add(
                    Attachment(
                        _in_run_dir(seen.screenshot, self.run.run_dir), "image/png", f"{what} at 375 px"
                    )
                )


class Experience:
    """One gateway's pages as its shopper meets them, on a phone."""

    def __init__(self, run: RunState, checkout: Checkout, screen: ShopperScreen) -> None:
        self.run = run
        self.checkout = checkout
        self.client: GatewayClient = checkout.client
        self.profile: Profile = checkout.profile
        self.screen = screen

    @property
    def _direct(self) -> bool:
        return self.profile.shopper.get("kind") == "direct"

    def wording(self, key: str) -> re.Pattern[str]:
        """The message the profile says the shopper reads (`experience.<key>`), else the generic wording."""
        declared = (self.profile.raw.get("experience") or {}).get(key)
        return compile_wording(str(declared) if declared else None)

    # -- UX-MOBILE ------------------------------------------------------------------------------------------

    def hosted_pages(self) -> list[PageSeen]:
        """The gateway's own pages, measured on a phone: its payment page (shopper.kind hosted-page) and its
        3-D Secure page (a `challenge` section), reached by paying with the challenge card where it has one."""
        challenge = self.profile.challenge and self.profile.card_with_outcome("CHALLENGE")
        if self._direct and not challenge:
            raise NotApplicable(
                f"{self.client.id} shows the shopper no page of its own: the merchant sends the card "
                "(shopper.kind direct) and there is no 3-D Secure page"
            )
        outcome = "CHALLENGE" if challenge else "COMPLETED"
        _, card = self.checkout.card_for(outcome)
        check = self.screen.watch("hosted", self._secrets(card))
        self.checkout.pay(outcome)
        pages = [p for p in check.seen if p.label in HOSTED]
        self.screen.record(pages, f"{self.client.id}'s hosted pages")
        return pages

    # -- UX-ERRORS ------------------------------------------------------------------------------------------

    def page_after_a_declined_card(self) -> PageSeen:
        """The page the shopper ends on after paying with the profile's declined card."""
        if self._direct:
            raise NotApplicable(
                f"{self.client.id} takes the card from the merchant (shopper.kind direct): a declined card is "
                "answered to the merchant's checkout, on no page of the gateway's"
            )
        return self._where_the_shopper_ends("FAILED", None, "a declined card")

    def page_after_a_failed_challenge(self) -> PageSeen:
        """The page the shopper ends on after typing a wrong 3-D Secure password."""
        if not self.profile.challenge or not self.profile.card_with_outcome("CHALLENGE"):
            raise NotApplicable(
                f"{self.client.id} has no 3-D Secure challenge (no `challenge` in its profile)"
            )
        return self._where_the_shopper_ends("CHALLENGE", WRONG_PASSWORD, "a failed 3-D Secure challenge")

    def _where_the_shopper_ends(self, outcome: str, password: str | None, what: str) -> PageSeen:
        _, card = self.checkout.card_for(outcome)
        merchant = self.run.target.merchant
        check = self.screen.watch(outcome.lower(), (*self._secrets(card), *([password] if password else [])))
        if merchant is not None:
            # The merchant's own checkout: the gateway sends the shopper back to its real return page.
            harness = MerchantHarness(self.run, self.client, merchant)
            try:
                order = harness.open_order()
                ended = self._pay(order, card, password)
            finally:
                harness.close()
            if ended.landed:
                self.screen.driver.visit(ended.final_url, "merchant return")
        else:
            result = self.checkout.pay(outcome, password=password)
            if result.shopper is None or result.shopper.landed:
                raise NotApplicable(
                    f"after {what}, {self.client.id} sends the shopper straight back to the merchant's return "
                    "URL, and the target names no merchant whose return page would tell them (`merchant:`)"
                )
        if not check.seen:
            raise AssertionError(f"after {what} the shopper was shown no page at all")
        last = check.seen[-1]
        self.screen.record([last], f"after {what}")
        return last

    def _pay(self, order: dict[str, object], card: Card, password: str | None) -> ShopperOutcome:
        entry = order.get("paymentUrl")
        if not entry:
            raise NotApplicable(f"the merchant's {self.client.id} checkout gives no page to pay on")
        challenge = self.profile.challenge
        return self.screen.driver.pay(
            str(entry),
            card,
            PageSpec.from_profile(self.profile.shopper),
            challenge=ChallengeSpec.from_profile(challenge),
            password=password if password is not None else (challenge or {}).get("password"),
            return_prefix=str(order.get("returnUrl")),
        )

    def _secrets(self, card: Card) -> tuple[str, ...]:
        password = (self.profile.challenge or {}).get("password")
        return (*card.secrets(), *([str(password)] if password else []))


class MerchantPages:
    """The merchant's pages on a phone: its return page, after a payment through each of the target's gateways."""

    def __init__(self, run: RunState, screen: ShopperScreen) -> None:
        self.run = run
        self.screen = screen

    def return_pages(self) -> list[PageSeen]:
        merchant = self.run.target.merchant
        if merchant is None:
            raise NotApplicable("the target names no merchant integration (its `merchant:` section)")
        pages: list[PageSeen] = []
        for gid, gateway in self.run.target.gateways.items():
            if gid in self.run.unreachable or gateway.profile is None:
                continue
            client = self.run.client(gid)
            harness = MerchantHarness(self.run, client, merchant)
            try:
                order = harness.open_order()
                # The gateway's own pages are the hosted-page test's: only the merchant's are watched here.
                self.screen.driver.observer = None
                ended = self._pay(harness, order)
                check = self.screen.watch(gid, self._secrets(client.profile))
                if ended.landed:
                    self.screen.driver.visit(ended.final_url, "merchant return")
            finally:
                harness.close()
            pages += check.seen
            self.screen.record(check.seen, f"the merchant's return page after {gid}")
        if not pages:
            raise AssertionError("no payment through the merchant came back to one of its pages")
        return pages

    def _pay(self, harness: MerchantHarness, order: dict[str, object]) -> ShopperOutcome:
        profile = harness.profile
        entry = order.get("paymentUrl")
        if not entry:
            raise NotApplicable(f"the merchant's {harness.client.id} checkout gives no page to pay on")
        found = profile.card_with_outcome(
            "CHALLENGE" if profile.shopper.get("kind") == "direct" else "COMPLETED"
        )
        if found is None:
            raise NotApplicable(f"{harness.client.id} lists no test card to pay the merchant's order with")
        challenge = profile.challenge
        return self.screen.driver.pay(
            str(entry),
            Card.from_profile(found[1]),
            PageSpec.from_profile(profile.shopper),
            challenge=ChallengeSpec.from_profile(challenge),
            password=challenge["password"] if challenge else None,
            return_prefix=str(order.get("returnUrl")),
        )

    @staticmethod
    def _secrets(profile: Profile) -> tuple[str, ...]:
        found: list[str] = []
        for entry in (profile.raw.get("cards") or {}).values():
            found += [str(entry.get("number", "")), str(entry.get("cvv", ""))]
        password = (profile.challenge or {}).get("password")
        return tuple(s for s in [*found, str(password or "")] if s)


def _in_run_dir(shot: Path, run_dir: Path) -> str:
    # Named relative to the run folder, as the shopper's screenshots are (Checkout._in_run_dir).
    path = shot.resolve()
    return str(path.relative_to(run_dir.resolve())) if path.is_relative_to(run_dir.resolve()) else str(shot)


@pytest.fixture
def experience(
    paycert_run: RunState, checkout: Checkout, request: pytest.FixtureRequest
) -> Iterator[Experience]:
    """This gateway's pages on a phone in Chromium (moves money like `checkout`, so it has its live guard)."""
    phone = phone_browser(request.config, paycert_run)
    screen = ShopperScreen(paycert_run, checkout.client.id, phone).start()
    on_phone = Checkout(
        checkout.client,
        screen.driver,
        checkout.sink,
        checkout.webhook_url,
        run_dir=paycert_run.run_dir,
        link_browser=paycert_run.link_browser,
    )
    try:
        yield Experience(paycert_run, on_phone, screen)
    finally:
        screen.close()


@pytest.fixture
def merchant_pages(paycert_run: RunState, request: pytest.FixtureRequest) -> Iterator[MerchantPages]:
    """The merchant's pages on a phone in Chromium (a test of the `merchant` subject, not of a gateway)."""
    screen = ShopperScreen(paycert_run, "merchant", phone_browser(request.config, paycert_run)).start()
    try:
        yield MerchantPages(paycert_run, screen)
    finally:
        screen.close()
