"""The one rule for writing to a live gateway, applied where requests leave (paycert/gateways/http.py and the
contract suite's request hook).

On a live target a request whose method is not safe (GET, HEAD, OPTIONS) is refused before it leaves unless
the run allows writes, except paycert's token request and the operations the profile's `live.safe_operations`
names (writes that move no money and leave nothing behind). With writes allowed, every amount a request
carries is capped at the lower of the target's and the profile's `live.max_amount`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from paycert.core.errors import LiveWriteRefused
from paycert.targets.target import GatewayTarget

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Body fields that carry money: `amount`, `totalAmount`, `amount_minor`, `captureAmount`...
_AMOUNT_KEY = re.compile(r"amount", re.IGNORECASE)


@dataclass(frozen=True)
class WriteGuard:
    """What one gateway's requests may do in this run."""

    gateway: str
    live: bool = False
    allow_writes: bool = False
    exempt: frozenset[str] = frozenset()  # operationIds that may write without --allow-live-writes
    max_amount: Decimal | None = None  # major units; None: no cap (not live)
    minor_decimals: int | None = None  # the gateway writes amounts in minor units with these decimals

    @classmethod
    def for_target(
        cls, target: GatewayTarget, *, allow_writes: bool, run_max_amount: float | None = None
    ) -> WriteGuard:
        """The guard for `target`: the token request and the profile's safe operations are exempt."""
        if not target.is_live:
            return cls(target.id)
        exempt: set[str] = set()
        caps = [Decimal(str(run_max_amount))] if run_max_amount is not None else []
        minor: int | None = None
        profile = target.profile
        if profile is not None:
            token = profile.auth.get("operation") or {}
            if token.get("operation_id"):
                exempt.add(str(token["operation_id"]))
            live = profile.raw.get("live") or {}
            for name in live.get("safe_operations") or ():
                declared = profile.operations.get(name) or {}
                if declared.get("operation_id"):
                    exempt.add(str(declared["operation_id"]))
            if live.get("max_amount") is not None:
                caps.append(Decimal(str(live["max_amount"])))
            if profile.amounts.get("format") == "minor-units":
                minor = int(profile.amounts.get("decimals", 2))
        return cls(
            target.id,
            live=True,
            allow_writes=allow_writes,
            exempt=frozenset(exempt),
            max_amount=min(caps) if caps else None,
            minor_decimals=minor,
        )

    @property
    def may_write(self) -> bool:
        return not self.live or self.allow_writes

    def check(self, method: str, where: str, operation_id: str | None = None) -> None:
        """Refuse a write this run does not allow, before anything is sent."""
        if self.may_write or method.upper() in SAFE_METHODS or (operation_id in self.exempt):
            return
        raise LiveWriteRefused(
            f"{self.gateway} is live: {method.upper()} {where} is a write and was not sent "
            "(run with --allow-live-writes to allow capped, undone writes)"
        )

    def cap(self, amount: Decimal) -> Decimal:
        """`amount` (major units), no larger than this run may move."""
        if self.live and self.max_amount is not None and amount > self.max_amount:
            return self.max_amount
        return amount

    def below_cap(self, amount: Decimal, room: Decimal) -> Decimal:
        """The largest amount up to `amount` that leaves `room` under the cap, for probes that must exceed it.

        An over-refund probe of amount + room must still be within the cap, or the cap would shrink the probe
        to the captured amount and a correct gateway would be blamed for accepting it.
        """
        if self.live and self.max_amount is not None and amount + room > self.max_amount:
            return self.max_amount - room
        return amount

    def cap_body(self, body: Any) -> tuple[Any, list[str]]:
        """`body` with every amount field capped (in the gateway's units), and the fields that were changed."""
        if not self.live or self.max_amount is None:
            return body, []
        changed: list[str] = []
        return self._cap_node(body, "", changed), changed

    def _cap_node(self, node: Any, path: str, changed: list[str]) -> Any:
        if isinstance(node, Mapping):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                where = f"{path}/{key}"
                if _AMOUNT_KEY.search(str(key)) and not isinstance(value, (Mapping, list)):
                    capped = self._cap_value(value, minor="minor" in str(key).lower())
                    if capped is not value:
                        changed.append(where)
                    out[key] = capped
                else:
                    out[key] = self._cap_node(value, where, changed)
            return out
        if isinstance(node, list):
            return [self._cap_node(item, f"{path}/{i}", changed) for i, item in enumerate(node)]
        return node

    def _cap_value(self, value: Any, *, minor: bool) -> Any:
        """The value capped, kept in its type (int, float, numeric string); anything else as it is."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return value
        if not number.is_finite():
            return value
        assert self.max_amount is not None
        decimals = self.minor_decimals if self.minor_decimals is not None else (2 if minor else None)
        limit = self.max_amount.scaleb(decimals) if decimals is not None else self.max_amount
        if number <= limit:
            return value
        if isinstance(value, int):
            return int(limit.to_integral_value(rounding=ROUND_DOWN))
        if isinstance(value, float):
            return float(limit)
        # As many decimals as it was written with, and never fewer than the cap needs (0.5 is not 0).
        places = max(_decimals(number), _decimals(limit.normalize()))
        return f"{limit.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)}"


def _decimals(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0
