"""Zero-amount card verification: a card preauthorization (PA) of 0.00.

The seed (001) says a preauthorization "verifies that a card is valid and has sufficient funds"; it names no
verification of its own. paycert's decision (specs/txservices/openapi.yaml): a PA by card whose amount is
zero is a card verification. The card decides as for any payment (approved `Y`/`authsuccessful` for a valid
card, `N` for a declined one, 3-D Secure for the challenge card), and nothing is held: the authorized amount
is 0.00, so there is nothing to capture. Only a PA may be zero: a debit (DB) of 0.00 is still `Invalid amount`.
"""

from __future__ import annotations

import re

from paycert.sandbox.faults import Faults
from paycert.sandbox.gateways.txservices.http import Params

CARD_MODES = frozenset({"CC", "DC"})
_ZERO = re.compile(r"0(\.0+)?")
# The fault verify-charges: what a verification takes instead of nothing.
CHARGED_AMOUNT = "1.00"


def requested(params: Params) -> bool:
    """A card preauthorization for zero."""
    return (
        params.get("paymentType") == "PA"
        and params.get("paymentMode") in CARD_MODES
        and _ZERO.fullmatch(params.get("amount", "")) is not None
    )


def accepted(params: Params, faults: Faults) -> bool:
    """True for a card verification, whose zero amount is therefore valid (the caller skips the amount check).

    The fault verify-charges makes the verification take money: `params` become a debit of CHARGED_AMOUNT
    (changed in place, after the checksum over what was sent was checked) and False is returned, so the
    request goes on as that ordinary debit.
    """
    if not requested(params):
        return False
    if faults.active("verify-charges"):
        params.update(amount=CHARGED_AMOUNT, paymentType="DB")
        return False
    return True
