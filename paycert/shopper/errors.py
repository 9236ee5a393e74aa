"""The one error the shopper raises: the page could not be driven as the profile describes it."""

from __future__ import annotations

from paycert.core.errors import PaycertError


class ShopperError(PaycertError):
    """The hosted or challenge page lacks a form, field or button the profile names, answered an HTTP error,
    or the journey did not end at the merchant's return URL within the step bound.

    The message is one line (newlines are folded) and never holds a card number, CVV or password.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class UnsupportedSelectorError(ShopperError, ValueError):
    """A profile selector uses CSS the HTTP shopper does not understand (see `paycert.shopper.selectors`)."""


class NeedsBrowserError(ShopperError):
    """The page model says these pages need JavaScript (a method's `browser: true`), and this shopper runs none:
    the journey is not attempted, so nothing is judged on a page the shopper could not see as a person does."""
