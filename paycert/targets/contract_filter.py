"""A target's limit on the contract suites: which operations of the spec they test (`contract:` of a gateway)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class OperationFilter:
    """An operation is kept when it matches any listed tag, path (exact, or a glob with `*`) or operationId."""

    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    operation_ids: tuple[str, ...] = ()

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any] | None) -> OperationFilter | None:
        """The filter of a target entry's `contract:` section (already validated by the target schema)."""
        if not raw:
            return None
        return cls(
            tags=tuple(str(t) for t in raw.get("tags", ())),
            paths=tuple(str(p) for p in raw.get("paths", ())),
            operation_ids=tuple(str(o) for o in raw.get("operation_ids", ())),
        )

    def matches(self, path: str, operation: Mapping[str, Any]) -> bool:
        tags = operation.get("tags") or ()
        return (
            any(tag in self.tags for tag in tags if isinstance(tag, str))
            or any(fnmatchcase(path, pattern) for pattern in self.paths)
            or operation.get("operationId") in self.operation_ids
        )

    def __str__(self) -> str:
        parts = [
            f"{name} {', '.join(values)}"
            for name, values in (
                ("tags", self.tags),
                ("paths", self.paths),
                ("operationIds", self.operation_ids),
            )
            if values
        ]
        return "; ".join(parts) or "nothing"
