"""The rate limit each sandbox gateway publishes (in its profile's `limits.rate`), as a plain ASGI middleware.

One operation per gateway is limited: its status read. A caller is one gateway, one source address and one
credential (the token it sends), so paycert's own suites, each with its own token, never share a window,
and a burst from one client is limited alone. Calls past the limit are answered 429 with `Retry-After`
(whole seconds until the oldest counted call leaves the window) and are not counted themselves, so a
client that waits as told is served again. The numbers are the profiles': seeds 000, 001 and 003 name no
limit, 002 §2.3 asks for one, so paycert decided them: 100 calls in 10 s. In a whole default run (contract
fuzzing, scenarios, merchant, KPI load) the busiest status read saw at most 78 calls in any 10 s, all tokens
together (measured from the sandbox's request log); the burst's 120 at 8 at once takes well under a second.

The window goes by the sandbox's test clock, like everything else in the sandbox that is about time: a client
that honours Retry-After by moving the clock on (paycert does, through the control API) is served again at
once, and one that really waits is served again too, since the test clock also runs in real time.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from paycert.sandbox.faults import Faults

_MAX_CALLERS = 10_000  # callers remembered at once: forgotten all together beyond it (a sandbox, not a CDN)


@dataclass(frozen=True)
class RateRule:
    """`requests` calls per `seconds` to the operation at `method` + `path` (a regular expression)."""

    method: str
    path: re.Pattern[str]
    requests: int
    seconds: float


# Each gateway's status read, as specs/<id>/profile.yaml `limits.rate` declares it.
RULES: tuple[RateRule, ...] = (
    RateRule("GET", re.compile(r"^/gustaffo/api/v1/payments/[^/]+$"), 100, 10.0),
    RateRule("GET", re.compile(r"^/txservices/transactionServices/REST/v1/payments/[^/]+$"), 100, 10.0),
    RateRule("GET", re.compile(r"^/paylican/api/v1/payment/[^/]+$"), 100, 10.0),
)
_CREDENTIAL_HEADERS = (b"authorization", b"authtoken")


class RateLimit:
    """ASGI middleware: a sliding window per rule and caller; past it, 429 with Retry-After."""

    def __init__(
        self,
        app: ASGIApp,
        faults: Faults,
        rules: tuple[RateRule, ...] = RULES,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock`: the seconds the windows go by; None is the sandbox's test clock (`app.state.sandbox`,
        read from the request's app), or the monotonic clock in an app that has none."""
        self._app = app
        self._faults = faults
        self._rules = rules
        self._clock = clock
        self._calls: dict[tuple[int, str, str], deque[float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule_index = self._rule_for(scope)
        if rule_index is None or self._faults.active("no-rate-limit"):
            await self._app(scope, receive, send)
            return
        wait = self._admit(rule_index, scope)
        if wait is None:
            await self._app(scope, receive, send)
            return
        rule = self._rules[rule_index]
        body = json.dumps(
            {
                "error": "rate_limited",
                "message": f"Too many requests: at most {rule.requests} in {rule.seconds:g} s; "
                f"retry after {wait} s",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(wait).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _rule_for(self, scope: Scope) -> int | None:
        if scope["type"] != "http":
            return None
        for index, rule in enumerate(self._rules):
            if scope["method"] == rule.method and rule.path.match(scope["path"]):
                return index
        return None

    def _admit(self, rule_index: int, scope: Scope) -> int | None:
        """None when the call is within the limit (and counted), else the seconds to wait."""
        rule = self._rules[rule_index]
        client = scope.get("client")
        key = (rule_index, client[0] if client else "", _credential(scope))
        now = self._now(scope)
        calls = self._calls.get(key)
        if calls is None:
            if len(self._calls) >= _MAX_CALLERS:
                self._calls.clear()
            calls = self._calls[key] = deque()
        while calls and calls[0] <= now - rule.seconds:
            calls.popleft()
        if len(calls) < rule.requests:
            calls.append(now)
            return None
        return max(1, math.ceil(calls[0] + rule.seconds - now))

    def _now(self, scope: Scope) -> float:
        if self._clock is None:
            # Found on the first limited call: the middleware is handed only the next ASGI app, while the
            # sandbox's state hangs on the FastAPI app, which Starlette puts in every request's scope.
            state = getattr(getattr(scope.get("app"), "state", None), "sandbox", None)
            test_clock = getattr(state, "clock", None)
            self._clock = test_clock.now if test_clock is not None else time.monotonic
        return self._clock()


def _credential(scope: Scope) -> str:
    """The caller's credential, by digest: the window is per token, and no token is kept in memory."""
    for name, value in scope.get("headers", []):
        if name.lower() in _CREDENTIAL_HEADERS:
            return hashlib.sha256(value).hexdigest()
    return ""
