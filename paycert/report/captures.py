"""The webhooks a run captured, as its report shows them: each with its id, gateway and test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paycert.core.errors import PaycertError
from paycert.core.evidence import webhook_capture_id


@dataclass(frozen=True)
class CapturedWebhook:
    id: str
    gateway: str  # the report column it was evidence in: whose webhook it is
    criterion: str
    nodeid: str
    evidence: dict[str, Any]  # the webhook evidence item: path, headers, body (redacted), answer, label

    @property
    def body(self) -> str:
        return str(self.evidence.get("body") or "")

    @property
    def headers(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in dict(self.evidence.get("headers") or {}).items()}


def captured_webhooks(document: dict[str, Any]) -> list[CapturedWebhook]:
    """Every webhook capture in a readiness.json document, each once (a test evidences several criteria)."""
    found: dict[str, CapturedWebhook] = {}
    for criterion in document.get("criteria", []):
        for gateway, cell in criterion.get("gateways", {}).items():
            for test in cell.get("tests", []):
                for item in test.get("evidence", []):
                    if item.get("kind") != "webhook":
                        continue
                    # A report written before captures had ids: the same id its HTML shows once re-rendered.
                    ident = str(item.get("id") or "") or webhook_capture_id(
                        str(item.get("path", "")),
                        float(item.get("received_at") or 0.0),
                        str(item.get("body", "")),
                    )
                    found.setdefault(
                        ident, CapturedWebhook(ident, gateway, criterion["id"], test["nodeid"], item)
                    )
    return list(found.values())


def find_webhook(document: dict[str, Any], event_id: str) -> CapturedWebhook:
    """The capture with this id; PaycertError (one line) naming a few known ids otherwise."""
    captures = captured_webhooks(document)
    for capture in captures:
        if capture.id == event_id:
            return capture
    if not captures:
        raise PaycertError(f"no captured webhook {event_id!r}: this run captured no webhooks")
    known = ", ".join(c.id for c in captures[:5])
    more = f" and {len(captures) - 5} more" if len(captures) > 5 else ""
    raise PaycertError(f"no captured webhook {event_id!r} in this run (it has {known}{more})")
