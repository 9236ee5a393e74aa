"""Evidence attached to results: what was sent and received, already redacted when it is built."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

WEBHOOK_ID_PREFIX = "wh_"


def webhook_capture_id(path: str, received_at: float, body: str) -> str:
    """The id a report gives one captured webhook (`paycert replay RUN EVENT_ID` names it by this).

    A digest of what was captured, not the gateway's own event id: a gateway's retries of one event share
    that id, while each delivery the sink received is its own piece of evidence. Computed from the redacted
    body, so the report alone (without the raw capture) always yields the same id.
    """
    digest = hashlib.sha256(f"{path}\n{received_at!r}\n{body}".encode()).hexdigest()
    return f"{WEBHOOK_ID_PREFIX}{digest[:12]}"


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response (or the transport error that took its place)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    duration_ms: float
    curl: str
    error: str | None = None
    label: str = ""
    kind: Literal["exchange"] = "exchange"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WebhookCapture:
    """A webhook the sink received from the gateway, with the signature check's outcome."""

    path: str
    headers: dict[str, str]
    body: str
    received_at: float
    answer: str
    signature: str = ""
    label: str = ""
    id: str = ""  # webhook_capture_id(...) of the redacted capture; "" lets the report compute it
    kind: Literal["webhook"] = "webhook"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Note:
    """A plain observation, e.g. a finding about the gateway's design."""

    text: str
    label: str = ""
    kind: Literal["note"] = "note"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attachment:
    """A file kept with the report (a browser screenshot), path relative to the run folder."""

    path: str
    media_type: str
    label: str = ""
    kind: Literal["attachment"] = "attachment"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AttestationRecord:
    """An attestation a person signed for what no test can see (an ATT-* criterion): who, when, on what."""

    criterion: str
    by: str
    at: str
    evidence: str
    expires: str = ""
    detail: str = ""
    label: str = "attestation"
    kind: Literal["attestation"] = "attestation"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadRun:
    """A bounded load phase against the target (the KPI criteria): its bounds, what it sent and answered, and
    each operation's latency. One item stands for every request of the phase: each one reached the target."""

    users: int
    max_requests: int
    max_seconds: float
    pace: str  # how the phase kept under the gateway's published rate limit, or "" when it has none
    stopped_by: str  # "max_requests", "max_seconds" or what else ended it
    seconds: float
    requests: int  # sent (never more than max_requests)
    answered: int  # of which the target answered (any HTTP status)
    failed: int  # 5xx, 429, transport errors and timeouts
    iterations: int  # create, pay, read status: started
    completed: int  # of which the status read back was COMPLETED
    operations: list[dict[str, Any]]  # name, requests, failures, p50_ms, p95_ms, p99_ms, rps
    thresholds: dict[str, float]  # success_rate, error_rate, p50_ms, p95_ms, p99_ms
    errors: list[str] = field(default_factory=list)  # each kind of failed request, its operation and count
    label: str = "load phase"
    kind: Literal["load"] = "load"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Evidence = Exchange | WebhookCapture | Note | Attachment | AttestationRecord | LoadRun


@dataclass
class EvidenceLog:
    """What one test gathered, in order."""

    items: list[Evidence] = field(default_factory=list)

    def add(self, item: Evidence) -> Evidence:
        self.items.append(item)
        return item

    def to_list(self) -> list[dict[str, Any]]:
        return [item.to_dict() for item in self.items]
