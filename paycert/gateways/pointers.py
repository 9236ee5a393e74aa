"""RFC 6901 JSON pointers (kept in `paycert.core.pointers`, below every layer that reads bodies)."""

from __future__ import annotations

from paycert.core.pointers import MISSING, resolve

__all__ = ["MISSING", "resolve"]
