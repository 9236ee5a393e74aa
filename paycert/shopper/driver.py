"""What a shopper driver is: the card it types, the pages it fills (from the profile) and what it reports.

Two drivers implement `ShopperDriver`: `HttpShopper` (plain HTTP, fast, the default) and `BrowserShopper`
(Chromium through Playwright, like a person). Both take the same `PageSpec`/`ChallengeSpec`, built from the
profile's `shopper` and `challenge` sections, and return the same `ShopperOutcome`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from paycert.redaction import mask_pan
from paycert.shopper.errors import ShopperError

# The pay button of paycert's page convention (`<button type="submit" name="action" value="pay">`), used when
# a profile names none. A challenge without a `submit` selector is answered with its form's first submit button.
DEFAULT_SUBMIT = "button[name=action][value=pay]"
DEFAULT_PASSWORD_FIELD = "password"

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


@dataclass(frozen=True, repr=False)
class Card:
    """A test card. `expiry_year` has four digits, as in profiles; `expiry` gives the MM/YY a page shows."""

    number: str
    expiry_month: str
    expiry_year: str
    cvv: str = ""
    holder: str = "Test Shopper"
    brand: str = ""

    @property
    def expiry(self) -> str:
        return f"{self.expiry_month}/{self.expiry_year[-2:]}"

    @classmethod
    def from_profile(cls, entry: Mapping[str, Any]) -> Card:
        """A card from one entry of a profile's `cards` section (its `outcome` and `description` are not kept)."""
        try:
            return cls(
                number=str(entry["number"]),
                expiry_month=str(entry["expiry_month"]).zfill(2),
                expiry_year=str(entry["expiry_year"]),
                cvv=str(entry.get("cvv", "")),
                holder=str(entry.get("holder", "Test Shopper")),
                brand=str(entry.get("brand", "")),
            )
        except KeyError as exc:
            raise ShopperError(f"the profile card entry has no {exc.args[0]!r}") from None

    def request_context(self) -> dict[str, Any]:
        """The card as a direct gateway's request templates name its fields (`{card.expiry_year2}` ...)."""
        return {
            "number": self.number,
            "expiry_month": self.expiry_month,
            "expiry_year": self.expiry_year,
            "expiry_year2": self.expiry_year[-2:],
            "expiry": self.expiry,
            "cvv": self.cvv,
            "holder": self.holder,
            "brand": self.brand,
        }

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in evidence (masked in screenshots)."""
        return tuple(value for value in (self.number, self.cvv) if value)

    def __repr__(self) -> str:
        # Never the full number or the CVV: a Card ends up in tracebacks and pytest's assertion output.
        brand = f"brand={self.brand!r}, " if self.brand else ""
        return f"Card({brand}number={mask_pan(self.number)!r}, expiry={self.expiry!r})"

    __str__ = __repr__


def template_value(template: str, card: Card, extra: Mapping[str, str] | None = None) -> str:
    """Fill the `{card.*}` placeholders of a profile field template (and any names given in `extra`)."""
    values = {
        "card.number": card.number,
        "card.expiry": card.expiry,
        "card.expiry_month": card.expiry_month,
        "card.expiry_year": card.expiry_year,
        "card.expiry_year2": card.expiry_year[-2:],
        "card.cvv": card.cvv,
        "card.holder": card.holder,
        "card.brand": card.brand,
        **(extra or {}),
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ShopperError(f"unknown placeholder {{{name}}} in shopper field template {template!r}")
        return values[name]

    return _PLACEHOLDER.sub(fill, template)


def field_selector(name_or_selector: str) -> str:
    """Profiles name fields by input name; a value that already looks like a CSS selector is kept as is."""
    if any(char in name_or_selector for char in "#.[ >:"):
        return name_or_selector
    return f'[name="{name_or_selector}"]'


@dataclass(frozen=True)
class MethodSpec:
    """A payment method of the hosted page besides the card form (a wallet such as PayPal), from one entry of
    the profile's `shopper.methods`.

    The shopper presses `select` on the hosted page, which leads to the method's own page (the wallet's
    approval); there it presses `approve` or `cancel`, and is sent back to the merchant. `method` is how the
    gateway reports a payment made this way. `browser`: the method's pages need JavaScript, so only a shopper
    that runs scripts can follow them.
    """

    name: str
    select: str
    approve: str
    method: str
    cancel: str | None = None
    browser: bool = False

    @classmethod
    def from_profile(cls, name: str, entry: Mapping[str, Any]) -> MethodSpec:
        try:
            return cls(
                name=name,
                select=str(entry["select"]),
                approve=str(entry["approve"]),
                method=str(entry["method"]),
                cancel=str(entry["cancel"]) if entry.get("cancel") else None,
                browser=bool(entry.get("browser", False)),
            )
        except KeyError as exc:
            raise ShopperError(f"the profile's shopper method {name!r} has no {exc.args[0]!r}") from None


@dataclass(frozen=True)
class PageSpec:
    """The hosted payment page, from the profile's `shopper` section.

    `fields` maps an input name to its value template. `kind="direct"` means the merchant sent the card and
    the shopper only ever meets a challenge page, so no payment form is expected. `methods`: the page's other
    payment methods (wallets), by name.
    """

    form: str | None
    fields: dict[str, str]
    submit: str = DEFAULT_SUBMIT
    cancel: str | None = None
    kind: str = "hosted-page"
    methods: dict[str, MethodSpec] = field(default_factory=dict)

    @classmethod
    def from_profile(cls, shopper: Mapping[str, Any]) -> PageSpec:
        """From a profile's `shopper` section."""
        return cls(
            form=shopper.get("form"),
            fields={str(name): str(value) for name, value in (shopper.get("fields") or {}).items()},
            submit=shopper.get("submit") or DEFAULT_SUBMIT,
            cancel=shopper.get("cancel"),
            kind=shopper.get("kind", "hosted-page"),
            methods={
                str(name): MethodSpec.from_profile(str(name), entry)
                for name, entry in (shopper.get("methods") or {}).items()
            },
        )

    def method(self, name: str) -> MethodSpec:
        """The method `name` of the page; a `ShopperError` naming the known ones when it has none such."""
        if name not in self.methods:
            known = ", ".join(sorted(self.methods)) or "none"
            raise ShopperError(f"the hosted page has no payment method {name!r} (its methods: {known})")
        return self.methods[name]


@dataclass(frozen=True)
class ChallengeSpec:
    """The 3-D Secure challenge page, from the profile's `challenge` section (its password is passed to `pay`,
    so a test can type a wrong one). `password_field` is an input name or a CSS selector; `submit` None means
    the challenge form's first submit button."""

    form: str | None = None
    password_field: str = DEFAULT_PASSWORD_FIELD
    submit: str | None = None
    cancel: str | None = None

    @classmethod
    def from_profile(cls, challenge: Mapping[str, Any] | None) -> ChallengeSpec | None:
        """From a profile's `challenge` section; None when the gateway has no challenge."""
        if not challenge:
            return None
        return cls(
            form=challenge.get("form"),
            password_field=challenge.get("password_field") or DEFAULT_PASSWORD_FIELD,
            submit=challenge.get("submit"),
            cancel=challenge.get("cancel"),
        )


@dataclass(frozen=True)
class ShopperOutcome:
    """Where the journey ended.

    `landed` is True when the shopper reached the merchant's return URL; then `final_url` is that URL and
    `return_query` its query. When a page after the payment offered nothing to do (a decline page, the
    challenge shown again), the journey stops there with `landed=False`. `pages` lists every URL requested,
    redirect hops included, redacted of secrets.
    """

    final_url: str
    return_query: dict[str, str]
    pages: list[str] = field(default_factory=list)
    challenged: bool = False
    screenshots: list[Path] = field(default_factory=list)
    landed: bool = False


class ShopperDriver(Protocol):
    """Plays the paying customer. No method requests the return URL: the merchant may not exist.

    `runs_scripts`: whether pages run JavaScript for this driver (a method whose pages need it is refused
    with `NeedsBrowserError` by a driver that runs none)."""

    runs_scripts: bool

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
        """Fill the hosted page with `card` and pay; on a challenge, type `password` (or press its cancel
        button when `cancel_challenge`)."""
        ...

    def cancel(self, entry_url: str, page: PageSpec, *, return_prefix: str) -> ShopperOutcome:
        """Press the hosted page's cancel button."""
        ...

    def pay_with(
        self, entry_url: str, page: PageSpec, method: str, *, approve: bool = True, return_prefix: str
    ) -> ShopperOutcome:
        """Pick the page's payment method `method` (a wallet), then approve it on its own page (or cancel
        there, when not `approve`)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
