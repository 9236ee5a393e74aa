"""RFC 6901 JSON pointers, to read values out of response and webhook bodies."""

from __future__ import annotations

from typing import Any

MISSING: Any = object()


def resolve(document: Any, pointer: str, default: Any = MISSING) -> Any:
    """The value at `pointer`, or `default` (MISSING) when any step is absent."""
    if pointer in ("", "/"):
        return document
    current = document
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return current
