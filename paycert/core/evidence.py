"""Evidence attached to results: what was sent and received, already redacted when it is built."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


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


Evidence = Exchange | WebhookCapture | Note | Attachment


@dataclass
class EvidenceLog:
    """What one test gathered, in order."""

    items: list[Evidence] = field(default_factory=list)

    def add(self, item: Evidence) -> Evidence:
        self.items.append(item)
        return item

    def to_list(self) -> list[dict[str, Any]]:
        return [item.to_dict() for item in self.items]
