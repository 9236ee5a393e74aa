"""Letting time pass for a gateway: move a paycert sandbox's test clock, or really wait for any other."""

from __future__ import annotations

import time

import httpx

from paycert.core.errors import PaycertError

MAX_REAL_WAIT_SECONDS = 120.0


class GatewayTime:
    """`pass_time(seconds)`: a sandbox with a control API moves its clock at once; a real gateway is waited for."""

    def __init__(self, control_url: str | None, verify: bool | str = True) -> None:
        self.control_url = control_url.rstrip("/") if control_url else None
        self.verify = verify

    @property
    def controllable(self) -> bool:
        return self.control_url is not None

    def now(self) -> float:
        """The time the gateway (and a merchant that follows its test clock) goes by: the sandbox's clock
        where there is a control API, this machine's otherwise."""
        if self.control_url is None:
            return time.time()
        try:
            response = httpx.get(f"{self.control_url}/clock", timeout=10, verify=self.verify)
            return float(response.json()["now"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise PaycertError(f"cannot read the sandbox clock at {self.control_url}: {exc}") from None

    def pass_time(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.control_url is None:
            time.sleep(min(seconds, MAX_REAL_WAIT_SECONDS))
            return
        try:
            response = httpx.post(
                f"{self.control_url}/clock/advance", json={"seconds": seconds}, timeout=10, verify=self.verify
            )
        except httpx.TransportError as exc:
            raise PaycertError(f"cannot move the sandbox clock at {self.control_url}: {exc}") from None
        if response.status_code != 200:
            raise PaycertError(
                f"the sandbox clock at {self.control_url} answered HTTP {response.status_code}"
            )
