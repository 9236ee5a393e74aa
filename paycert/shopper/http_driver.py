"""The fast shopper: a plain HTTP client that follows the redirects by hand and posts the forms.

It sends what a browser would (hidden inputs kept, only the pressed button's name=value, form-urlencoded to the
resolved action) without running JavaScript, so it suits pages that are real HTML forms, as paycert asks of
every gateway's hosted page.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx

from paycert.core.tls import verifier
from paycert.shopper.driver import (
    MethodSpec,
    ShopperOutcome,
    field_selector,
    template_value,
)
from paycert.shopper.errors import ShopperError
from paycert.shopper.forms import Document, Form
from paycert.shopper.journey import Action, Journey, JourneyWalker
from paycert.shopper.urls import is_return, return_query

DEFAULT_MAX_STEPS = 10
_REDIRECTS = (301, 302, 303, 307, 308)


class HttpShopper(JourneyWalker):
    """`ShopperDriver` over httpx. Each journey starts with an empty cookie jar, like a new shopper, and makes
    at most `max_steps` requests (redirect hops included) before it must be back at the merchant.

    `verify`: True, False, a CA bundle (the sandbox's `ca_file` when it serves HTTPS) or an SSL context;
    ignored when a `client` is given (that client is not closed by `close()`).
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        verify: bool | Path | ssl.SSLContext = True,
        timeout: float = 10.0,
        max_steps: int = DEFAULT_MAX_STEPS,
    ) -> None:
        if isinstance(verify, Path):
            verify = verifier(verify)
        self._owned = client is None
        self._client = client or httpx.Client(verify=verify, timeout=timeout)
        self.max_steps = max_steps

    def _walk(self, url: str, journey: Journey, return_prefix: str) -> ShopperOutcome:
        self._client.cookies.clear()
        method, body = "GET", b""
        pages: list[str] = []
        requests = 0
        while not is_return(url, return_prefix):
            if requests == self.max_steps:
                last = journey.redact(url)
                raise ShopperError(
                    f"no return to {journey.redact(return_prefix)} within {self.max_steps} steps (next: {last})"
                )
            requests += 1
            response = self._send(method, url, body, journey)
            pages.append(journey.redact(url))
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                if response.status_code not in (307, 308):
                    method, body = "GET", b""
                continue
            if response.status_code >= 400:
                raise ShopperError(f"{journey.redact(url)} answered HTTP {response.status_code}")
            document = Document(response.text, url)
            refresh = document.refresh_url()
            if refresh is not None and not document.forms:  # a "please wait" page that moves on by itself
                url, method, body = refresh, "GET", b""
                continue
            step = self._step(document, journey)
            if step is None:
                return ShopperOutcome(url, {}, pages, journey.challenged, [], landed=False)
            method, url, body = step
        pages.append(journey.redact(url))
        return ShopperOutcome(url, return_query(url), pages, journey.challenged, [], landed=True)

    def _step(self, document: Document, journey: Journey) -> tuple[str, str, bytes] | None:
        """Fill and submit the form the journey asks for: (method, URL, body) of the submission."""
        where = journey.redact(document.url)
        if journey.method is not None:
            return self._method_step(document, journey, journey.method, where)
        spec = journey.challenge
        challenge_form = None
        if spec is not None:
            field = field_selector(spec.password_field)
            challenge_form = document.form(spec.form) if spec.form else document.form_with(field)
            if challenge_form is not None and challenge_form.find(field) is None:
                challenge_form = None
        payment_form = document.form(journey.page.form)
        action = journey.next(
            where, has_challenge=challenge_form is not None, has_payment=payment_form is not None
        )
        if action is Action.STOP:
            return None
        if action is Action.CHALLENGE_CANCEL and spec is not None and challenge_form is not None:
            return _submit(document, challenge_form, {}, str(spec.cancel), where)
        if action is Action.CHALLENGE and spec is not None and challenge_form is not None:
            password_input = challenge_form.find(field_selector(spec.password_field))
            name = password_input.name if password_input is not None else spec.password_field
            return _submit(document, challenge_form, {name: journey.password or ""}, spec.submit, where)
        if payment_form is None:
            raise ShopperError(f"{where}: nothing to submit for {action.value}")  # the journey rules this out
        if action is Action.CANCEL:
            return _submit(document, payment_form, {}, str(journey.page.cancel), where)
        card = journey.card
        if card is None:
            raise ShopperError("paying needs a card")
        values = {name: template_value(template, card) for name, template in journey.page.fields.items()}
        missing = sorted(set(values) - payment_form.input_names())
        if missing:
            raise ShopperError(f"{where}: the payment form has no input named {', '.join(missing)}")
        return _submit(document, payment_form, values, journey.page.submit, where)

    def _method_step(
        self, document: Document, journey: Journey, method: MethodSpec, where: str
    ) -> tuple[str, str, bytes] | None:
        """A step of a journey with another payment method: its button on the hosted page, then approve or
        cancel on its own page; each button sends the form it belongs to (the page model's rule)."""
        answers = [method.approve, *([method.cancel] if method.cancel else [])]
        action = journey.next(
            where,
            has_challenge=False,
            has_payment=False,
            has_method=document.control(method.select, None) is not None,
            has_method_page=any(document.control(button, None) is not None for button in answers),
        )
        if action is Action.STOP:
            return None
        button = {
            Action.METHOD: method.select,
            Action.METHOD_APPROVE: method.approve,
            Action.METHOD_CANCEL: method.cancel,
        }[action]
        return _submit(document, None, {}, button, where)

    def _send(self, method: str, url: str, body: bytes, journey: Journey) -> httpx.Response:
        headers = {"content-type": "application/x-www-form-urlencoded"} if method == "POST" else {}
        try:
            return self._client.request(method, url, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise ShopperError(f"{method} {journey.redact(url)} failed: {type(exc).__name__}") from None

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _submit(
    document: Document, filled: Form | None, values: dict[str, str], button_selector: str | None, where: str
) -> tuple[str, str, bytes]:
    """Press the button (in the filled form, else anywhere on the page) and send the form it belongs to.

    The values typed go with the submission only when the button is the filled form's own.
    """
    found = document.control(button_selector, filled)
    if found is None:
        raise ShopperError(
            f"{where}: the page has no button matching {button_selector or 'a submit button'!r}"
        )
    form, button = found
    if form is not filled:
        values = {}
    if form.enctype == "multipart/form-data":
        raise ShopperError(f"{where}: multipart forms are not supported by the HTTP shopper")
    method, action = form.target(button)
    encoded = urlencode(form.data_set(values, button))
    if method == "GET":
        parts = urlsplit(action)
        return "GET", urlunsplit((parts.scheme, parts.netloc, parts.path, encoded, "")), b""
    return "POST", action, encoded.encode()
