"""Attestations: what no test can see (PCI DSS, agreements, privacy, backups...), attested by a named person.

An attestations file (fixtures/attestations.example.yaml, validated by specs/attestations.schema.json) holds
one entry per ATT-* criterion: who, when, the evidence (a link, or a file next to it) and an expiry. The
attestations suite judges each ATT-* criterion from it: a current attestation passes, and one that is missing,
expired, dated in the future or whose evidence file is gone leaves the criterion "awaiting attestation" (not
evaluated: a blocking one keeps the verdict NO-GO).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from paycert.core.errors import TargetError
from paycert.targets.files import read_yaml
from paycert.targets.home import specs_dir

AWAITING = "awaiting attestation"


@dataclass(frozen=True)
class Attestation:
    criterion: str
    by: str
    at: date
    evidence: str  # a link, or a file relative to the attestations file
    expires: date | None = None
    detail: str = ""

    @property
    def evidence_is_link(self) -> bool:
        return self.evidence.startswith(("https://", "http://"))

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "criterion": self.criterion,
            "by": self.by,
            "at": self.at.isoformat(),
            "evidence": self.evidence,
        }
        if self.expires is not None:
            entry["expires"] = self.expires.isoformat()
        if self.detail:
            entry["detail"] = self.detail
        return entry


@dataclass(frozen=True)
class AttestationBook:
    """The attestations a run was given (none when it was given no file)."""

    path: Path | None
    items: tuple[Attestation, ...] = ()

    def latest(self, criterion: str) -> Attestation | None:
        """The most recent attestation of a criterion: a renewal supersedes the one it renews."""
        mine = [a for a in self.items if a.criterion == criterion]
        return max(mine, key=lambda a: a.at) if mine else None

    def why_not(self, criterion: str, today: date) -> str | None:
        """None when the criterion is attested and current; else why it still awaits an attestation."""
        attestation = self.latest(criterion)
        if attestation is None:
            given = f"{self.path}" if self.path else "no attestations file was given (--attestations FILE)"
            return f"{AWAITING}: nobody has attested {criterion} ({given})"
        who = f"attested by {attestation.by} on {attestation.at.isoformat()}"
        if attestation.at > today:
            return f"{AWAITING}: {who}, a date still to come"
        if attestation.expires is not None and attestation.expires < today:
            return f"{AWAITING}: {who} expired on {attestation.expires.isoformat()}"
        if not attestation.evidence_is_link:
            file = self.evidence_file(attestation)
            if file is None or not file.is_file():
                return f"{AWAITING}: {who}, but its evidence file {attestation.evidence} does not exist"
        return None

    def evidence_file(self, attestation: Attestation) -> Path | None:
        if attestation.evidence_is_link:
            return None
        base = self.path.parent if self.path else Path.cwd()
        return base / attestation.evidence


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (specs_dir() / "attestations.schema.json").read_text(encoding="utf-8")
    )
    return schema


def load_attestations(path: Path | None) -> AttestationBook:
    """Read and validate an attestations file; None gives an empty book (every ATT-* awaits attestation)."""
    if path is None:
        return AttestationBook(None)
    raw = _dates_as_text(read_yaml(path, TargetError, "attestations file"))
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(raw), key=lambda e: list(map(str, e.path))
    )
    if errors:
        at = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise TargetError(f"attestations file {path} is invalid at {at}: {errors[0].message}")
    items = []
    for index, entry in enumerate(raw["attestations"]):
        try:
            items.append(
                Attestation(
                    criterion=entry["criterion"],
                    by=entry["by"],
                    at=date.fromisoformat(entry["at"]),
                    evidence=entry["evidence"],
                    expires=date.fromisoformat(entry["expires"]) if entry.get("expires") else None,
                    detail=entry.get("detail", ""),
                )
            )
        except ValueError as exc:
            raise TargetError(f"attestations file {path} is invalid at attestations/{index}: {exc}") from None
    return AttestationBook(path, tuple(items))


def _dates_as_text(raw: Any) -> Any:
    """YAML reads an unquoted 2026-12-01 as a date; the file means the same day either way."""
    if isinstance(raw, dict):
        return {k: _dates_as_text(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_dates_as_text(v) for v in raw]
    return raw.isoformat() if isinstance(raw, date) else raw


def add_attestation(path: Path, attestation: Attestation) -> AttestationBook:
    """Write an attestation into the file (made if missing), after the ones it keeps; returns the new book."""
    book = load_attestations(path) if path.exists() else AttestationBook(path)
    kept = [a.to_dict() for a in book.items]
    document = {"version": 1, "attestations": [*kept, attestation.to_dict()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_attestations(path)
