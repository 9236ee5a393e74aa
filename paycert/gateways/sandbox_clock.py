"""A paycert sandbox's test clock, over its control API (the target's `control_url`): read it, move it on,
and read its webhook outbox. Everything paycert does with a sandbox's time goes through here: the plugin's
`GatewayTime` (quiet periods, expiry, settle windows) and the HTTP seam's wait for a 429's Retry-After.

Control calls are many and small (a merchant's settle window alone moves the clock five times), so each clock
keeps its connection open instead of paying a TLS handshake per call (3 ms of CPU against 1 ms on this
machine); its owner closes it when done, since a connection left open holds up the sandbox's shutdown.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from paycert.core.errors import PaycertError
from paycert.targets.bounds import bounded_client, within

CONTROL_TIMEOUT_SECONDS = 10.0


class SandboxClock:
    """The test clock of the sandbox whose control API is at `control_url` (`GET /clock`, `POST /clock/advance`,
    `GET /outbox`)."""

    def __init__(self, control_url: str, verify: ssl.SSLContext | bool = True) -> None:
        self.control_url = control_url.rstrip("/")
        self._verify = verify
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def now(self) -> float:
        """The sandbox's time, epoch seconds."""
        try:
            response = self._get("/clock")
            return float(response.json()["now"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise PaycertError(f"cannot read the sandbox clock at {self.control_url}: {exc}") from None

    def advance(self, seconds: float) -> None:
        """Move the clock `seconds` on; what comes due with it (expiry, polling jobs) is done on return."""
        try:
            response = self._send("POST", "/clock/advance", json={"seconds": seconds})
        except httpx.TransportError as exc:
            raise PaycertError(f"cannot move the sandbox clock at {self.control_url}: {exc}") from None
        if response.status_code != 200:
            raise PaycertError(
                f"the sandbox clock at {self.control_url} answered HTTP {response.status_code}"
            )

    def outbox(self, gateway: str | None) -> list[Any]:
        """The sandbox's pending webhook deliveries (of `gateway`, or all of them).

        Only the pending ones are asked for (an index range on the sandbox), so a poll costs the same however
        much history the sandbox holds; a sandbox that ignores `state` answers every delivery, which is still
        right for a caller that looks only at the pending ones."""
        params = {"state": "pending", **({"gateway": gateway} if gateway else {})}
        try:
            response = self._get("/outbox", params)
            deliveries = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise PaycertError(f"cannot read the sandbox outbox at {self.control_url}: {exc}") from None
        if response.status_code != 200 or not isinstance(deliveries, list):
            # Never read as "nothing due": that would end a quiet period before anything could arrive.
            raise PaycertError(
                f"the sandbox outbox at {self.control_url} answered HTTP {response.status_code}"
            )
        return deliveries

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return self._send("GET", path, params=params or {})

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # Sent again once on a transport error that is not a timeout: a pooled connection the sandbox closed
        # just as it was reused. POST too, as the gateway seam retries transport errors: on loopback, a
        # request that broke off before any answer is one the sandbox did not get to handle.
        if self._client is None:
            self._client = bounded_client(verify=self._verify)
        for attempt in range(2):
            try:
                with within(CONTROL_TIMEOUT_SECONDS):
                    return self._client.request(
                        method, f"{self.control_url}{path}", timeout=CONTROL_TIMEOUT_SECONDS, **kwargs
                    )
            except httpx.TimeoutException:
                raise
            except httpx.TransportError:
                if attempt:
                    raise
        raise AssertionError("unreachable")
