"""`readiness.json`: the readiness model as a stable document with its own JSON Schema.

The HTML and JUnit reports render from this document too, so all three say the same thing and a report can be
re-rendered from a `readiness.json` alone.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from paycert.core.evidence import webhook_capture_id
from paycert.core.results import TestResult
from paycert.report.readiness import CriterionStatus, GatewayStatus, Readiness, summarize

SCHEMA_VERSION = 1

# The fields each evidence kind always has in the document, with the default for an item that lacks one.
EVIDENCE_FIELDS: dict[str, dict[str, Any]] = {
    "exchange": {
        "method": "",
        "url": "",
        "request_headers": {},
        "request_body": None,
        "status": None,
        "response_headers": {},
        "response_body": None,
        "duration_ms": 0.0,
        "curl": "",
        "error": None,
        "label": "",
    },
    "webhook": {
        "path": "",
        "headers": {},
        "body": "",
        "received_at": 0.0,
        "answer": "",
        "signature": "",
        "label": "",
        "id": "",
    },
    "note": {"text": "", "label": ""},
    "attachment": {"path": "", "media_type": "application/octet-stream", "label": ""},
    # The evidence of an attested criterion (ATT-*): who attested it, when, on what, until when.
    "attestation": {
        "criterion": "",
        "by": "",
        "at": "",
        "evidence": "",
        "expires": "",
        "detail": "",
        "label": "attestation",
    },
}


# The report's columns that are not gateways of the target, as a reader would name them.
SUBJECT_TITLES = {
    "merchant": "The merchant's integration (paycert plays each gateway at it)",
    "attested": "What no test can see, attested by a person (ATT-*)",
}


def readiness_to_dict(readiness: Readiness) -> dict[str, Any]:
    """The document `readiness.json` holds (before redaction and serialization)."""
    info = {g.id: g.to_dict() for g in readiness.run.gateways}
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": readiness.verdict.value,
        "verdict_reason": readiness.verdict_reason,
        "run": readiness.run.to_dict(),
        "summary": dict(readiness.summary),
        "gateways": [
            (
                info.get(g)
                or {
                    "id": g,
                    "title": SUBJECT_TITLES.get(g, ""),
                    "base_url": "",
                    "environment": None,
                    "source": "",
                    "notes": [],
                }
            )
            | {
                "summary": summarize(
                    c.status for s in readiness.criteria if (c := s.for_gateway(g)) is not None
                )
            }
            for g in readiness.gateways
        ],
        "criteria": [_criterion(s) for s in readiness.criteria],
        "out_of_scope": list(readiness.out_of_scope),
        "unknown_criteria": list(readiness.unknown_criteria),
        "findings": [f.to_dict() for f in readiness.findings],
        "harness_errors": list(readiness.harness_errors),
    }


def _criterion(status: CriterionStatus) -> dict[str, Any]:
    c = status.criterion
    return {
        "id": c.id,
        "title": c.title,
        "family": c.family,
        "source": c.source,
        "blocking": c.blocking,
        "evidenced_by": c.evidenced_by,
        "description": c.description,
        "status": status.status.value,
        "gateways": {g.gateway: _cell(g) for g in status.gateways},
    }


def _cell(cell: GatewayStatus) -> dict[str, Any]:
    return {"status": cell.status.value, "reason": cell.reason, "tests": [_test(t) for t in cell.tests]}


def _test(test: TestResult) -> dict[str, Any]:
    return {
        "nodeid": test.nodeid,
        "outcome": test.outcome.value,
        "reason": test.reason,
        "duration_s": round(test.duration_s, 3),
        "evidence": [normalize_evidence(item) for item in test.evidence],
    }


def normalize_evidence(item: dict[str, Any]) -> dict[str, Any]:
    """An evidence item with exactly its kind's fields; an unknown kind becomes a note that shows it as text."""
    kind = str(item.get("kind", ""))
    if kind == "load":
        return _load_evidence(item)
    fields = EVIDENCE_FIELDS.get(kind)
    if fields is None:
        text = json.dumps(item, sort_keys=True, default=str, ensure_ascii=False)
        return {
            "kind": "note",
            "label": str(item.get("label", "")),
            "text": f"evidence of unknown kind: {text}",
        }
    normalized: dict[str, Any] = {"kind": kind}
    for name, default in fields.items():
        normalized[name] = _coerce(item.get(name), default, name)
    if kind == "webhook" and not normalized["id"]:
        # A capture recorded before webhooks had ids (or by a suite's own code): `paycert replay` needs one.
        normalized["id"] = webhook_capture_id(
            normalized["path"], normalized["received_at"], normalized["body"]
        )
    return normalized


# A load phase's summary (KPI-*): its counts, its bounds, and per operation its latency percentiles.
LOAD_INTEGERS = ("users", "max_requests", "requests", "answered", "failed", "iterations", "completed")
LOAD_NUMBERS = ("max_seconds", "seconds")
LOAD_TEXTS = ("pace", "stopped_by", "label")
OPERATION_NUMBERS = ("p50_ms", "p95_ms", "p99_ms", "rps")


def _load_evidence(item: dict[str, Any]) -> dict[str, Any]:
    """A load summary with its fields in the schema's types (nested: operations, thresholds, errors)."""
    normalized: dict[str, Any] = {"kind": "load"}
    normalized |= {name: int(item.get(name) or 0) for name in LOAD_INTEGERS}
    normalized |= {name: float(item.get(name) or 0.0) for name in LOAD_NUMBERS}
    normalized |= {name: str(item.get(name) or "") for name in LOAD_TEXTS}
    normalized["operations"] = [
        {"name": str(op.get("name", "")), "requests": int(op.get("requests") or 0)}
        | {"failures": int(op.get("failures") or 0)}
        | {name: float(op.get(name) or 0.0) for name in OPERATION_NUMBERS}
        for op in item.get("operations") or ()
    ]
    normalized["thresholds"] = {str(k): float(v) for k, v in dict(item.get("thresholds") or {}).items()}
    normalized["errors"] = [str(e) for e in item.get("errors") or ()]
    return normalized


def _coerce(value: Any, default: Any, name: str) -> Any:
    """The value in the type the schema gives the field, so one odd item cannot make the document invalid."""
    if value is None:
        return default
    if isinstance(default, dict):
        return {str(k): str(v) for k, v in dict(value).items()}
    if isinstance(default, float):
        return float(value)
    if name == "status":
        return int(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def dumps(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 kept readable, newline at the end."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of `readiness.json`, shipped with the package."""
    text = resources.files("paycert.report").joinpath("readiness.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
