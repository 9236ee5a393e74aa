"""The target's settings for the go-live guidelines' probes (002): security probes and the KPI load phase.

Defaults are small on purpose: a burst or a load phase is bounded by count and time, whichever comes first,
and stops by itself. The target file's `security:` and `kpi:` sections override them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RateLimitBurst:
    """The burst SEC-RATE-LIMIT sends at one cheap operation."""

    max_requests: int = 120
    max_seconds: float = 10.0
    concurrency: int = 8


@dataclass(frozen=True)
class SecuritySettings:
    probe_address: str = "127.0.0.2"  # a loopback source address that is not on the allow-list
    rate_limit: RateLimitBurst = field(default_factory=RateLimitBurst)

    @classmethod
    def from_raw(cls, raw: Any) -> SecuritySettings:
        raw = raw or {}
        burst = raw.get("rate_limit") or {}
        return cls(
            probe_address=str(raw.get("probe_address", "127.0.0.2")),
            rate_limit=RateLimitBurst(
                max_requests=int(burst.get("max_requests", 120)),
                max_seconds=float(burst.get("max_seconds", 10.0)),
                concurrency=int(burst.get("concurrency", 8)),
            ),
        )


@dataclass(frozen=True)
class LatencyThresholds:
    p50: float = 250.0
    p95: float = 800.0
    p99: float = 1500.0


@dataclass(frozen=True)
class KpiSettings:
    """The load phase (bounded by requests and seconds) and the thresholds the KPI criteria judge it by."""

    users: int = 4
    # Small, as it runs in every default run for every gateway: a few seconds each, and under 80 status reads
    # (the load's share of the sandboxes' published 100 per 10 s), so the phase never waits on the limit.
    max_requests: int = 160
    max_seconds: float = 20.0
    success_rate: float = 0.95
    error_rate: float = 0.02
    latency_ms: LatencyThresholds = field(default_factory=LatencyThresholds)

    @classmethod
    def from_raw(cls, raw: Any) -> KpiSettings:
        raw = raw or {}
        latency = raw.get("latency_ms") or {}
        return cls(
            users=int(raw.get("users", 4)),
            max_requests=int(raw.get("max_requests", 160)),
            max_seconds=float(raw.get("max_seconds", 20.0)),
            success_rate=float(raw.get("success_rate", 0.95)),
            error_rate=float(raw.get("error_rate", 0.02)),
            latency_ms=LatencyThresholds(
                p50=float(latency.get("p50", 250.0)),
                p95=float(latency.get("p95", 800.0)),
                p99=float(latency.get("p99", 1500.0)),
            ),
        )
