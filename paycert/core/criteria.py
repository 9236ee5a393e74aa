"""The go-live criteria catalogue (specs/readiness.yaml) as typed data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from paycert.core.errors import SpecError
from paycert.core.yaml_data import safe_load

FAMILIES = ("AUTH", "PAY", "OPS", "WH", "MER", "CON", "SEC", "KPI", "UX", "ATT")


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    source: str
    blocking: bool
    evidenced_by: Literal["tests", "attestation"]
    description: str = ""

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]


@dataclass(frozen=True)
class Catalogue:
    criteria: tuple[Criterion, ...]

    @classmethod
    def from_path(cls, path: Path) -> Catalogue:
        try:
            raw = safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"cannot read the criteria catalogue {path}: {exc}") from None
        return cls.from_data(raw)

    @classmethod
    def from_data(cls, raw: Any) -> Catalogue:
        if not isinstance(raw, dict) or not isinstance(raw.get("criteria"), list):
            raise SpecError("the criteria catalogue must be a mapping with a 'criteria' list")
        items = []
        for entry in raw["criteria"]:
            criterion = Criterion(
                id=str(entry["id"]),
                title=str(entry["title"]),
                source=str(entry.get("source", "")),
                blocking=bool(entry.get("blocking", True)),
                evidenced_by=entry.get("evidenced_by", "tests"),
                description=str(entry.get("description", "")),
            )
            if criterion.family not in FAMILIES:
                raise SpecError(f"criterion {criterion.id}: unknown family {criterion.family}")
            items.append(criterion)
        ids = [c.id for c in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise SpecError(f"criteria listed twice: {', '.join(duplicates)}")
        return cls(tuple(items))

    def __iter__(self) -> Iterator[Criterion]:
        return iter(self.criteria)

    def __contains__(self, criterion_id: object) -> bool:
        return any(c.id == criterion_id for c in self.criteria)

    def get(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)
