"""The gateways the sandbox serves. Each module offers PREFIX, CREDENTIALS and build_router(state)."""

from __future__ import annotations

from types import ModuleType

from paycert.sandbox.gateways import gustaffo, paylican, txservices

GATEWAYS: tuple[ModuleType, ...] = (gustaffo, txservices, paylican)

__all__ = ["GATEWAYS"]
