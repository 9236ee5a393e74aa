"""`readiness.html`: one self-contained page (no external CSS, fonts, scripts or images) readable offline.

It renders from the `readiness.json` document. Screenshots are inlined as `data:` URIs read from the run folder.
They are swapped in after the page text has been redacted, so the redactor never rewrites base64 bytes; their
placeholders are made of letters alone, since a random hex placeholder next to its index now and then held a
Luhn-valid run of digits that the redactor masked as a card number, leaving a broken image.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import pickle
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from paycert.report.latency_chart import latency_svg
from paycert.report.run import RunInfo
from paycert.report.trend import compare

BODY_LIMIT = 4096  # characters of a body shown before it is cut, so one huge response cannot bloat the page
ATTACHMENT_LIMIT = 8 * 1024 * 1024  # bytes inlined at most; a bigger file is named, not embedded
STATUS_LABELS = {
    "pass": "pass",
    "fail": "FAIL",
    "not_applicable": "n/a",
    "not_evaluated": "not evaluated",
}
_TEXT_MEDIA = ("text/", "application/json", "application/xml")


def _letters(number: int, alphabet: str = string.ascii_lowercase) -> str:
    """`number` written in letters (0 -> "a", 26 -> "ba"): a placeholder with no digits for any rule to take."""
    written = alphabet[number % len(alphabet)]
    while number >= len(alphabet):
        number //= len(alphabet)
        written = alphabet[number % len(alphabet)] + written
    return written


def _nonce() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(20))


@dataclass
class _Inliner:
    """Gives each embedded file a placeholder now and its data: URI after redaction."""

    run_dir: Path | None
    nonce: str = field(default_factory=_nonce)
    uris: dict[str, str] = field(default_factory=dict)

    def attachment(self, item: dict[str, Any]) -> dict[str, Any]:
        view = {
            "label": item["label"],
            "path": item["path"],
            "media_type": item["media_type"],
            "show": "missing",
        }
        data = self._read(item["path"])
        if data is None:
            return view | {"note": "the file is not in the run folder"}
        if len(data) > ATTACHMENT_LIMIT:
            return view | {"note": f"{len(data)} bytes: too large to embed, see the run folder"}
        media = item["media_type"]
        if media.startswith(_TEXT_MEDIA):
            return view | {"show": "text", "body": body_view(data.decode("utf-8", errors="replace"))}
        # Closed at both ends: `...-1` must not be replaced inside `...-10` (the tenth screenshot broke so).
        placeholder = f"paycert-inline-{self.nonce}-{_letters(len(self.uris))}-end"
        self.uris[placeholder] = f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"
        return view | {"show": "image" if media.startswith("image/") else "file", "src": placeholder}

    def _read(self, relative: str) -> bytes | None:
        if self.run_dir is None or not relative:
            return None
        root = self.run_dir.resolve()
        path = (root / relative).resolve()
        # Only files inside the run folder: the path comes from evidence, and the report must not carry
        # whatever a path like ../../etc points at.
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path.read_bytes()

    def intact(self, html: str) -> bool:
        """Whether redaction left every placeholder as it was (a known secret could still match letters)."""
        return all(placeholder in html for placeholder in self.uris)

    def inline(self, html: str) -> str:
        for placeholder, uri in self.uris.items():
            html = html.replace(placeholder, uri)
        return html


def render_html(
    document: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
    run_dir: Path | None = None,
    redact: Callable[[str], str] | None = None,
) -> str:
    """The page for one `readiness.json` document; `previous` is the previous run's document, for the trend."""
    for _ in range(_RENDER_ATTEMPTS):
        inliner = _Inliner(run_dir)
        html = _render(document, previous, inliner)
        if redact is not None:
            html = redact(html)
        if inliner.intact(html):
            break
        # Redaction changed a placeholder: render again with other letters rather than ship a broken image.
    return inliner.inline(html)


_RENDER_ATTEMPTS = 3


def _render(document: dict[str, Any], previous: dict[str, Any] | None, inliner: _Inliner) -> str:
    return (
        _environment()
        .get_template("readiness.html")
        .render(
            doc=document,
            # Normalised through RunInfo: a document written before a field existed still renders.
            run=RunInfo.from_dict(document["run"]).to_dict() | {"selection": document["run"]["selection"]},
            trend=compare(document, previous),
            criteria=[
                _criterion_view(c, inliner, RunInfo.from_dict(document["run"])) for c in document["criteria"]
            ],
            labels=STATUS_LABELS,
            selection=_selection_text(document["run"]["selection"]),
            attestations=_attestations_view(document["criteria"]),
            kpi=_kpi_view(document["criteria"]),
        )
    )


_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


@cache
def _environment() -> jinja2.Environment:
    return environment(_template_cache())


def environment(bytecode_cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    """The page's Jinja environment, its compiled templates kept in `bytecode_cache` (None: compiled anew)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("paycert.report", "templates"),
        bytecode_cache=bytecode_cache,
        autoescape=True,  # in the cache files' names too (cache_pattern)
        **_OPTIONS,
    )


class BestEffortCache(jinja2.FileSystemBytecodeCache):
    """The compiled page template kept between runs: compiling it was ~0.05 s of CPU of every run (issue 15).

    Jinja keys a cached template by its file and checks its source's hash, so an edited template is compiled
    again. A cache that cannot be read or written is only not used: it must never stop a report.
    """

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError, TypeError, pickle.UnpicklingError):  # unreadable or corrupt:
            bucket.reset()  # compiled from the template, as without a cache

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def cache_pattern() -> str:
    """The cache files' names. Jinja keys a compiled template by its name and source, not by the environment's
    options, which change the compiled code too (trim_blocks, autoescape): they are in the name, so code
    compiled with other options is never read."""
    options = hashlib.sha256(repr(("autoescape", True, sorted(_OPTIONS.items()))).encode()).hexdigest()[:16]
    return f"__paycert_report_{options}_%s.cache"


def _template_cache() -> jinja2.BytecodeCache | None:
    try:
        # Jinja's per-user folder in the temp dir, made private (0700) and checked to be the user's own.
        return BestEffortCache(pattern=cache_pattern())
    except (OSError, RuntimeError):  # no usable temp folder: no cache
        return None


def _selection_text(selection: dict[str, Any]) -> str:
    parts = [
        f"{name}: {', '.join(selection[name])}"
        for name in ("suites", "criteria", "gateways")
        if selection[name]
    ]
    if selection["keyword"]:
        parts.append(f"keyword: {selection['keyword']}")
    return "; ".join(parts) or "everything"


def _criterion_view(criterion: dict[str, Any], inliner: _Inliner, run: RunInfo) -> dict[str, Any]:
    cells = []
    for gateway, cell in criterion["gateways"].items():
        tests = [t | {"evidence": [_evidence_view(e, inliner) for e in t["evidence"]]} for t in cell["tests"]]
        rerun = run.rerun(gateway, criterion["id"]) if cell["status"] in ("fail", "not_evaluated") else ""
        cells.append(
            {
                "gateway": gateway,
                "status": cell["status"],
                "reason": cell["reason"],
                "tests": tests,
                "rerun": rerun,
            }
        )
    # What the search box looks in: the id, title, family and every gateway's reason.
    text = " ".join([criterion["id"], criterion["title"], criterion["family"], *(c["reason"] for c in cells)])
    return criterion | {"cells": cells, "search_text": text.lower()}


def _attestations_view(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attested criteria (ATT-*) with who attested them, when and until when, or why they still wait."""
    rows = []
    for criterion in criteria:
        if criterion.get("evidenced_by") != "attestation":
            continue
        records = [
            e
            for cell in criterion["gateways"].values()
            for test in cell["tests"]
            for e in test["evidence"]
            if e.get("kind") == "attestation"
        ]
        reasons = [c["reason"] for c in criterion["gateways"].values() if c["reason"]]
        rows.append(
            {
                "id": criterion["id"],
                "title": criterion["title"],
                "blocking": criterion["blocking"],
                "status": criterion["status"],
                "record": records[-1] if records and criterion["status"] == "pass" else None,
                "reason": "; ".join(reasons) or "no attestation was judged",
            }
        )
    return rows


def _kpi_view(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each gateway's load phase (the KPI tests share one, so the first summary found), with its chart."""
    phases: dict[str, dict[str, Any]] = {}
    for criterion in criteria:
        for gateway, cell in criterion["gateways"].items():
            for test in cell["tests"]:
                for item in test["evidence"]:
                    if item.get("kind") == "load" and gateway not in phases:
                        chart = latency_svg(item["operations"], item["thresholds"])
                        phases[gateway] = {"gateway": gateway, "load": item, "chart": chart}
    return list(phases.values())


def _evidence_view(item: dict[str, Any], inliner: _Inliner) -> dict[str, Any]:
    kind = item["kind"]
    if kind == "exchange":
        return item | {
            "request_headers_text": headers_text(item["request_headers"]),
            "response_headers_text": headers_text(item["response_headers"]),
            "request": body_view(item["request_body"]),
            "response": body_view(item["response_body"]),
        }
    if kind == "webhook":
        # `id` is what `paycert replay` takes; a document from before webhooks had ids shows none.
        return item | {
            "id": item.get("id", ""),
            "headers_text": headers_text(item["headers"]),
            "payload": body_view(item["body"]),
        }
    if kind == "attachment":
        return {"kind": kind} | inliner.attachment(item)
    return item


def headers_text(headers: dict[str, str]) -> str:
    # Sorted by name: readiness.json and results.json store them sorted, so a report re-rendered from them
    # (`paycert report`) shows the same page as the run wrote.
    return "\n".join(f"{name}: {value}" for name, value in sorted(headers.items()))


def body_view(body: str | None) -> dict[str, Any]:
    """A body for people: JSON pretty-printed, then cut at BODY_LIMIT characters with a note of how much."""
    if body is None or body == "":
        return {"text": "", "cut": 0, "empty": True}
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body  # not JSON: shown as it came
    cut = max(0, len(text) - BODY_LIMIT)
    return {"text": text[:BODY_LIMIT], "cut": cut, "empty": False}
