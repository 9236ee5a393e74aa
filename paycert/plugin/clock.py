"""Letting time pass for a gateway: move a paycert sandbox's test clock, or really wait for any other."""

from __future__ import annotations

import time
from typing import Any

from paycert.core.tls import verifier
from paycert.gateways.sandbox_clock import SandboxClock

MAX_REAL_WAIT_SECONDS = 120.0
# A sandbox's outbox settles in milliseconds; this bounds a receiver that holds every request (the sink's
# "timeout" mode holds one for the sender's whole timeout), after which the test counts what came.
SETTLE_LIMIT_SECONDS = 30.0
SETTLE_POLL_SECONDS = 0.02


class GatewayTime:
    """`pass_time(seconds)`: a sandbox with a control API moves its clock at once; a real gateway is waited for."""

    def __init__(self, control_url: str | None, verify: bool | str = True) -> None:
        self.control_url = control_url.rstrip("/") if control_url else None
        # The shared context for the CA file: each httpx.get with a path would parse the bundle again.
        self.verify = verifier(verify) if isinstance(verify, str) else verify
        self._clock = SandboxClock(self.control_url, self.verify) if self.control_url else None

    def close(self) -> None:
        """Close the connection to the control API (one left open holds up the sandbox's shutdown)."""
        if self._clock is not None:
            self._clock.close()

    def __enter__(self) -> GatewayTime:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def controllable(self) -> bool:
        return self.control_url is not None

    def now(self) -> float:
        """The time the gateway (and a merchant that follows its test clock) goes by: the sandbox's clock
        where there is a control API, this machine's otherwise."""
        if self._clock is None:
            return time.time()
        return self._clock.now()

    def quiet(self, seconds: float, gateway: str) -> None:
        """Let `seconds` of the gateway's time pass with paycert's receiver listening; return once whatever
        the gateway sends in them has arrived. This is how a test proves that nothing more comes.

        A real gateway's clock cannot be moved, so it is really waited for. A paycert sandbox's test clock is
        moved on at once and its outbox then says when everything due has been sent (`settle`): the period
        is as long in gateway time, and costs real time only for the deliveries themselves.
        """
        if self.control_url is None:
            time.sleep(min(seconds, MAX_REAL_WAIT_SECONDS))
            return
        self.pass_time(seconds)
        self.settle(gateway)

    def settle(self, gateway: str) -> None:
        """On a sandbox: return once none of `gateway`'s webhook deliveries is due or in flight, read from its
        outbox (`/outbox`); at once on a real gateway, which has nothing to ask.

        Sound because the outbox marks an attempt delivered or reschedules it only after the receiver answered
        it (and after the duplicate-webhook fault's second copy was answered too), and paycert's sink records
        a request before it answers; a delivery in flight is still due. What is scheduled after the sandbox's
        now is not sent yet: that is a backoff, which a test checks by moving the clock.
        """
        if self.control_url is None:
            return
        deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
        while time.monotonic() < deadline:
            now = self.now()  # read first: a delivery that falls due after it is not due for this look
            # None of the gateway's: the sandbox knows it by another name, so every delivery is watched (an
            # empty answer must never end a quiet period early).
            deliveries = self._outbox(gateway) or self._outbox(None)
            if not any(_due(delivery, now) for delivery in deliveries):
                return
            time.sleep(SETTLE_POLL_SECONDS)

    def _outbox(self, gateway: str | None) -> list[Any]:
        assert self._clock is not None
        return self._clock.outbox(gateway)  # an error is a PaycertError, never "nothing due"

    def pass_time(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._clock is None:
            time.sleep(min(seconds, MAX_REAL_WAIT_SECONDS))
            return
        self._clock.advance(seconds)


def _due(delivery: Any, now: float) -> bool:
    if not isinstance(delivery, dict):
        return False
    next_at = delivery.get("next_at")
    return delivery.get("state") == "pending" and next_at is not None and float(next_at) <= now
