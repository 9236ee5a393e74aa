"""What one load phase is told: which gateway of which target file, its bounds, its pace, where to write.

A plain JSON document, because the phase runs in a child process (Locust monkey-patches the standard library
with gevent, which the pytest process must never see) and, for a distributed run, in every Locust worker:
`PAYCERT_LOAD_CONFIG` names the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from paycert.core.errors import PaycertError

CONFIG_VARIABLE = "PAYCERT_LOAD_CONFIG"
# The share of a published rate limit the phase uses: under it, so a correct gateway never answers 429.
RATE_LIMIT_SHARE = 0.8
# Requests in flight when the time is up get this long for their answers before the users are killed.
GRACE_SECONDS = 1.0


class LoadConfigError(PaycertError):
    """A load configuration paycert cannot use."""


@dataclass(frozen=True)
class LoadConfig:
    target_file: str
    gateway: str
    users: int
    max_requests: int
    max_seconds: float
    # The gateway's published rate limit (`limits.rate` of its profile): at most `requests` per `seconds`.
    rate_requests: int | None = None
    rate_seconds: float | None = None
    rate_operation: str | None = None  # the operationId it limits; None: every request
    allow_live_writes: bool = False
    notification_url: str | None = None  # where the gateway sends webhooks of the phase's payments
    return_base: str | None = None  # the shopper's return URLs start here (never requested)
    results_file: str | None = None  # where the child writes its figures (JSON)

    def __post_init__(self) -> None:
        if self.users < 1 or self.max_requests < 1 or self.max_seconds <= 0:
            raise LoadConfigError(
                f"load phase: users ({self.users}), max_requests ({self.max_requests}) and max_seconds "
                f"({self.max_seconds}) must be positive"
            )

    @property
    def rate_window(self) -> tuple[int, float] | None:
        """At most (requests) in any (seconds) window, a share of the published limit; None without one."""
        if not self.rate_requests or not self.rate_seconds:
            return None
        return max(1, int(self.rate_requests * RATE_LIMIT_SHARE)), float(self.rate_seconds)

    @property
    def pace(self) -> str:
        window = self.rate_window
        if window is None:
            return ""
        which = f"{self.rate_operation} requests" if self.rate_operation else "requests"
        return (
            f"at most {window[0]} {which} in any {window[1]:g} s "
            f"({RATE_LIMIT_SHARE:.0%} of the published {self.rate_requests} per {self.rate_seconds:g} s)"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_file(cls, path: Path) -> LoadConfig:
        try:
            raw: Any = json.loads(path.read_text(encoding="utf-8"))
            return cls(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise LoadConfigError(f"load configuration {path}: {exc}") from None
