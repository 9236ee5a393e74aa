"""The shopper: what a paying customer does on a gateway's hosted payment page and 3-D Secure challenge.

`HttpShopper` posts the forms over plain HTTP (fast, the default); `BrowserShopper` fills them in Chromium.
Both are driven by the profile's `shopper` and `challenge` sections (`PageSpec`, `ChallengeSpec`).
"""

from __future__ import annotations

from paycert.shopper.browser_driver import BrowserShopper
from paycert.shopper.driver import (
    Card,
    ChallengeSpec,
    PageSpec,
    ShopperDriver,
    ShopperOutcome,
    template_value,
)
from paycert.shopper.errors import ShopperError, UnsupportedSelectorError
from paycert.shopper.http_driver import HttpShopper

__all__ = [
    "BrowserShopper",
    "Card",
    "ChallengeSpec",
    "HttpShopper",
    "PageSpec",
    "ShopperDriver",
    "ShopperError",
    "ShopperOutcome",
    "UnsupportedSelectorError",
    "template_value",
]
