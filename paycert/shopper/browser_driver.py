"""The browser shopper: Chromium (Debian's, through Playwright) fills and clicks the pages like a person.

The merchant's return URL is intercepted inside the browser (Chromium's DevTools Fetch domain) and answered
with a tiny page, so the journey ends there without the merchant having to exist. Screenshots are taken when a
page arrives (before anything is typed) and after the outcome with every input masked, so none can show a card
number.
"""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from paycert.redaction import redact_url
from paycert.shopper.driver import (
    MethodSpec,
    ShopperOutcome,
    field_selector,
    template_value,
)
from paycert.shopper.errors import ShopperError
from paycert.shopper.journey import Action, Journey, JourneyWalker
from paycert.shopper.urls import is_return, return_query

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        CDPSession,
        Locator,
        Page,
        Playwright,
        Request,
        Response,
    )

DEFAULT_MAX_STEPS = 10
CHROMIUM = "/usr/bin/chromium"
# Flags for a headless Chromium in a container: no sandbox (no user namespaces), no GPU, and no background
# traffic to Google's update and sync services (the machine may be offline).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# What a form submits with when no selector names the button (the HTTP driver's `Element.is_button`).
_ANY_SUBMIT = "button:not([type]), button[type=submit], input[type=submit], input[type=image]"
_RETURNED = "<!doctype html><title>Returned to the merchant</title><h1>Returned to the merchant</h1><p>{}</p>"


@dataclass(frozen=True)
class Device:
    """The screen a journey runs on: a desktop window by default, or an emulated phone (`mobile.PHONE`)."""

    width: int = 1280
    height: int = 720
    scale: float = 1.0
    mobile: bool = False
    touch: bool = False


@dataclass(frozen=True)
class _Landed:
    """The tab a journey landed in on the merchant's return URL (`url`), kept for a visit of that URL."""

    context: BrowserContext
    page: Page
    url: str


# Called with each page of a journey when it arrives (before anything is typed), with the response that
# brought it, and with the page a journey ends on unlanded ("outcome"); `BrowserShopper.visit` too.
PageObserver = Callable[["Page", str, "Response | None"], None]


def launch_chromium(executable_path: str = CHROMIUM, *, headless: bool = True) -> tuple[Playwright, Browser]:
    """Chromium started the one way paycert does; `release_chromium` gives it back. A browser that cannot
    start is a `ShopperError` with Playwright's first line (no call log).

    Drivers of one thread share one Chromium process (the session's phone and its payment-link browser):
    launching one cost ~0.8 s of two cores, and a driver's journeys each run in a browser context of their
    own, which shares no cookies, storage or cache with another. The process is closed when its last user
    releases it; one that crashed is not handed out again.
    """
    from playwright.sync_api import Error

    playwright = _acquire_playwright()
    shared, users = _chromiums()
    browser = shared.get((executable_path, headless))
    if browser is None or not browser.is_connected():
        args = list(CHROMIUM_ARGS) if headless else [a for a in CHROMIUM_ARGS if a != "--headless"]
        try:
            browser = playwright.chromium.launch(
                executable_path=executable_path, headless=headless, args=args
            )
        except Error as exc:
            _release_playwright()
            raise ShopperError(f"cannot start Chromium at {executable_path}: {_first_line(exc)}") from None
        shared[(executable_path, headless)] = browser
    users[id(browser)] = users.get(id(browser), 0) + 1
    return playwright, browser


def release_chromium(browser: Browser) -> None:
    from playwright.sync_api import Error

    shared, users = _chromiums()
    left = users.get(id(browser), 1) - 1
    try:
        if left > 0:
            users[id(browser)] = left
            return
        users.pop(id(browser), None)
        for key in [k for k, b in shared.items() if b is browser]:
            del shared[key]
        browser.close()
    except Error:
        pass  # already gone (crashed or killed): nothing left to close, but Playwright is still released
    finally:
        _release_playwright()


class BrowserShopper(JourneyWalker):
    """`ShopperDriver` on Chromium. One browser per driver, started on first use and closed by `close()`;
    each journey runs in a fresh browser context (no cookies from the previous one). A `visit` of the URL the
    last journey landed on goes on in that journey's tab, as the shopper's own browser would (a fresh context
    and page cost more than the visit itself); any other visit gets a fresh context. Like Playwright's sync
    API, a driver is used from the thread that created it. A journey fills at most `max_steps` pages (the
    browser bounds redirect chains itself).

    `ca_file`: the CA of a sandbox served over HTTPS with a self-signed chain. Chromium reads trust anchors
    only from the system's NSS database, not from a file, so when a CA file is given (the target says it trusts
    that CA) certificate errors are ignored for the journey instead. Without it, TLS is verified as usual.
    """

    runs_scripts = True

    def __init__(
        self,
        screenshot_dir: Path | None = None,
        *,
        executable_path: str = CHROMIUM,
        headless: bool = True,
        ca_file: Path | None = None,
        timeout: float = 10.0,
        max_steps: int = DEFAULT_MAX_STEPS,
        viewport: tuple[int, int] = (1280, 720),
        device: Device | None = None,
        observer: PageObserver | None = None,
    ) -> None:
        self.device = device or Device(*viewport)
        self.viewport = (self.device.width, self.device.height)
        self.observer = observer
        self.screenshot_dir = screenshot_dir
        self.executable_path = executable_path
        self.headless = headless
        self.ca_file = ca_file
        self.timeout_ms = timeout * 1000
        self.max_steps = max_steps
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._journeys = itertools.count(1)
        self._landed: _Landed | None = None  # the last journey's tab, kept for a visit of where it landed

    def _ensure_browser(self) -> Browser:
        if self._browser is not None and not self._browser.is_connected():
            # A browser that crashed (or was killed) under a long-lived driver: the next journey gets a new
            # one instead of every later journey failing on the dead one.
            self.close()
        if self._browser is None:
            self._playwright, self._browser = launch_chromium(self.executable_path, headless=self.headless)
        return self._browser

    def start(self) -> Self:
        """Start Chromium now rather than on the first journey (a `ShopperError` if it cannot start)."""
        self._ensure_browser()
        return self

    def _new_context(self) -> BrowserContext:
        self._forget_landed()  # whatever comes next is not a visit of where the last journey landed
        device = self.device
        context = self._ensure_browser().new_context(
            ignore_https_errors=self.ca_file is not None,
            viewport={"width": device.width, "height": device.height},
            device_scale_factor=device.scale,
            is_mobile=device.mobile,
            has_touch=device.touch,
        )
        context.set_default_timeout(self.timeout_ms)
        return context

    def visit(self, url: str, label: str = "page") -> None:
        """Open `url` on this driver's device and show it to the observer (a page the shopper is sent to
        after the journey, such as the merchant's real return page)."""
        from playwright.sync_api import Error

        landed, self._landed = self._landed, None
        if landed is not None and landed.url != url:
            _close_quietly(landed.context)
            landed = None
        context = landed.context if landed is not None else self._new_context()
        try:
            try:
                page = landed.page if landed is not None else context.new_page()
                response = page.goto(url, wait_until="load")
                self._observe(page, label, response)
            except Error as exc:
                raise ShopperError(f"{redact_url(url)}: {_first_line(exc)}") from None
        finally:
            context.close()

    def _forget_landed(self) -> None:
        landed, self._landed = self._landed, None
        if landed is not None:
            _close_quietly(landed.context)

    def _observe(self, page: Page, label: str, response: Response | None) -> None:
        if self.observer is not None:
            self.observer(page, label, response)

    def _walk(self, entry_url: str, journey: Journey, return_prefix: str) -> ShopperOutcome:
        from playwright.sync_api import Error

        number = next(self._journeys)
        context = self._new_context()
        pages: list[str] = []
        shots: list[Path] = []
        kept = False

        try:
            page = context.new_page()

            def navigated(request: Request) -> None:
                if request.is_navigation_request() and request.frame == page.main_frame:
                    pages.append(journey.redact(request.url))

            page.on("request", navigated)
            returns = _answer_returns(context, page, return_prefix)
            try:
                response = page.goto(entry_url, wait_until="load")
                step = 0
                while True:
                    step += 1
                    if is_return(page.url, return_prefix):
                        shots += self._shoot(page, number, step, "return")
                        # The tab is kept for a visit of the real return page: this journey is over, so it no
                        # longer counts the tab's navigations, and the return URL is no longer answered here
                        # (detaching the DevTools session ends its Fetch interception).
                        page.remove_listener("request", navigated)
                        returns.detach()
                        self._landed = _Landed(context, page, page.url)
                        kept = True
                        return ShopperOutcome(
                            page.url, return_query(page.url), pages, journey.challenged, shots, landed=True
                        )
                    if step > self.max_steps:
                        raise ShopperError(
                            f"no return to {journey.redact(return_prefix)} within {self.max_steps} steps "
                            f"(last: {journey.redact(page.url)})"
                        )
                    _check(response, journey.redact(page.url))
                    arrived = response
                    response = self._step(page, journey, number, step, shots, arrived)
                    if response is None:
                        self._observe(page, "outcome", arrived)
                        shots += self._shoot(page, number, step, "outcome", mask=page.locator("input"))
                        return ShopperOutcome(page.url, {}, pages, journey.challenged, shots, landed=False)
            except Error as exc:
                message = journey.redact_text(_first_line(exc))
                raise ShopperError(f"{journey.redact(page.url)}: {message}") from None
        finally:
            if not kept:
                context.close()

    def _step(
        self,
        page: Page,
        journey: Journey,
        number: int,
        step: int,
        shots: list[Path],
        arrived: Response | None = None,
    ) -> Response | None:
        """Fill and submit what the journey asks for on this page; the response of the navigation it caused,
        or None when the journey ends here."""
        if journey.method is not None:
            return self._method_step(page, journey, journey.method, number, step, shots, arrived)
        where = journey.redact(page.url)
        spec = journey.challenge
        challenge_form: Locator | None = None
        if spec is not None:
            field = field_selector(spec.password_field)
            candidate = (
                page.locator(spec.form) if spec.form else page.locator("form", has=page.locator(field))
            )
            if candidate.first.locator(field).count() > 0:
                challenge_form = candidate.first
        payment_form = page.locator(journey.page.form or "form").first
        has_payment = payment_form.count() > 0
        action = journey.next(where, has_challenge=challenge_form is not None, has_payment=has_payment)
        if action is Action.STOP:
            return None
        self._observe(page, action.value, arrived)
        shots += self._shoot(page, number, step, action.value)
        if spec is not None and challenge_form is not None:
            if action is Action.CHALLENGE_CANCEL:
                return _click(page, challenge_form, str(spec.cancel), where)
            password_input = challenge_form.locator(field_selector(spec.password_field)).first
            password_input.fill(journey.password or "")
            return _click(page, challenge_form, spec.submit, where)
        if action is Action.CANCEL:
            return _click(page, payment_form, str(journey.page.cancel), where)
        card = journey.card
        if card is None:
            raise ShopperError("paying needs a card")
        missing = [
            name for name in journey.page.fields if payment_form.locator(field_selector(name)).count() == 0
        ]
        if missing:
            raise ShopperError(f"{where}: the payment form has no input named {', '.join(sorted(missing))}")
        for name, template in journey.page.fields.items():
            _fill(payment_form.locator(field_selector(name)).first, template_value(template, card))
        return _click(page, payment_form, journey.page.submit, where)

    def _method_step(
        self,
        page: Page,
        journey: Journey,
        method: MethodSpec,
        number: int,
        step: int,
        shots: list[Path],
        arrived: Response | None,
    ) -> Response | None:
        """A step of a journey with another payment method: its button on the hosted page, then approve or
        cancel on the method's own page, wherever on the page the button is (the HTTP shopper's rule too)."""
        where = journey.redact(page.url)
        answers = [method.approve, *([method.cancel] if method.cancel else [])]
        action = journey.next(
            where,
            has_challenge=False,
            has_payment=False,
            has_method=page.locator(method.select).count() > 0,
            has_method_page=any(page.locator(button).count() > 0 for button in answers),
        )
        if action is Action.STOP:
            return None
        self._observe(page, action.value, arrived)
        shots += self._shoot(page, number, step, action.value)
        button = {
            Action.METHOD: method.select,
            Action.METHOD_APPROVE: method.approve,
            Action.METHOD_CANCEL: method.cancel,
        }[action]
        return _click(page, page.locator("body"), button, where)

    def _shoot(
        self, page: Page, number: int, step: int, label: str, mask: Locator | None = None
    ) -> list[Path]:
        if self.screenshot_dir is None:
            return []
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        path = self.screenshot_dir / f"journey-{number:03d}-step-{step:02d}-{label}.png"
        page.screenshot(path=path, full_page=True, mask=[mask] if mask is not None else [])
        return [path]

    def close(self) -> None:
        self._forget_landed()
        if self._browser is not None:
            release_chromium(self._browser)
            self._browser = None
            self._playwright = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# Playwright's sync API runs one driver per thread, and a second `sync_playwright()` in the same thread fails;
# drivers created in one thread (a session-wide one and a test's own) share it, each with its own browser.
_local = threading.local()


def _chromiums() -> tuple[dict[tuple[str, bool], Browser], dict[int, int]]:
    """This thread's Chromium per (executable, headless), and how many drivers use each (by id: one that
    crashed and was replaced is still counted down by the drivers that hold it)."""
    shared: dict[tuple[str, bool], Browser] = _local.__dict__.setdefault("browsers", {})
    users: dict[int, int] = _local.__dict__.setdefault("browser_users", {})
    return shared, users


def _acquire_playwright() -> Playwright:
    from playwright.sync_api import sync_playwright

    if getattr(_local, "users", 0) == 0:
        _local.playwright = sync_playwright().start()
        _local.users = 0
    _local.users += 1
    playwright: Playwright = _local.playwright
    return playwright


def _release_playwright() -> None:
    _local.users -= 1
    if _local.users == 0:
        _local.playwright.stop()
        _local.playwright = None


def _answer_returns(context: BrowserContext, page: Page, return_prefix: str) -> CDPSession:
    """Answer navigations to the merchant's return URL inside the browser, so none leaves it (until the
    DevTools session returned is detached).

    Playwright's `route()` does not see the hops of a redirect chain (microsoft/playwright#3993, by design),
    and the return URL is always reached by a redirect; Chromium's own Fetch domain pauses those requests too.
    """
    cdp = context.new_cdp_session(page)

    def paused(event: dict[str, Any]) -> None:
        body = _RETURNED.format(html.escape(redact_url(event["request"]["url"]))).encode()
        cdp.send(
            "Fetch.fulfillRequest",
            {
                "requestId": event["requestId"],
                "responseCode": 200,
                "responseHeaders": [{"name": "content-type", "value": "text/html; charset=utf-8"}],
                "body": base64.b64encode(body).decode(),
            },
        )

    cdp.on("Fetch.requestPaused", paused)
    # Fetch URL patterns know `*` and `?` as wildcards; a backslash escapes them.
    pattern = "".join(f"\\{char}" if char in "*?\\" else char for char in return_prefix) + "*"
    cdp.send("Fetch.enable", {"patterns": [{"urlPattern": pattern, "requestStage": "Request"}]})
    return cdp


def _close_quietly(context: BrowserContext) -> None:
    from playwright.sync_api import Error

    with contextlib.suppress(Error):  # its browser is gone already (crashed, or closed under it)
        context.close()


def _fill(field: Locator, value: str) -> None:
    # A select is chosen, a checkbox ticked, anything else typed, the way a person would.
    tag = str(field.evaluate("e => e.tagName + ':' + (e.type || '')")).lower()
    if tag.startswith("select"):
        field.select_option(value)
    elif tag in ("input:checkbox", "input:radio"):
        field.check()
    else:
        field.fill(value)


def _click(page: Page, form: Locator, selector: str | None, where: str) -> Response | None:
    """Press a button of the form, else of the page (a cancel button may sit in a form of its own), and wait
    for the page it leads to: the page model the HTTP shopper shares (`forms.Document.control`)."""
    if selector is None:
        button = form.locator(_ANY_SUBMIT).first
    else:
        button = form.locator(selector).first
        if button.count() == 0:
            button = page.locator(selector).first
    if button.count() == 0:
        raise ShopperError(f"{where}: the page has no button matching {selector or 'a submit button'!r}")
    # Where the button leads is the gateway's business, so wait for whatever navigation it starts.
    with page.expect_navigation(wait_until="load") as navigation:
        button.click()
    return navigation.value


def _check(response: Response | None, where: str) -> None:
    if response is not None and response.status >= 400:
        raise ShopperError(f"{where} answered HTTP {response.status}")


def _first_line(exc: BaseException) -> str:
    # Playwright's messages carry a multi-line call log; the first line says what went wrong.
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
