"""Hypothesis's constants from "local" source files, kept out of what the contract run generates.

Hypothesis mixes the string and number literals of every module it deems local (neither site-packages nor
the standard library) into the data it generates. With paycert installed from a checkout that is paycert's
own source, about a thousand strings (`--paycert-seed`, `plain_http_url`, `nodeid`, CSS colours), and they
went out to the gateway as Idempotency-Keys and descriptions. The system under test is the gateway, whose
source paycert does not have: its own literals find nothing there. They made what a seed generates depend on
paycert's source and on how it is installed (from a checkout or a wheel), cost a parse of every paycert module
(0.3 s of CPU) and wrote some 140 cache files to `.hypothesis/constants/` in the QA's working folder on a
fresh checkout; plain `schemathesis run` has none of them. So the pool of local constants is empty while a
contract run generates. Hypothesis's own constants (boundary numbers, awkward strings) stay.

Hypothesis has no setting for this: the pool is its internal `_get_local_constants`. If a Hypothesis release
moves it, the run goes on as before (with the literals) rather than failing, and
tests/contract/test_contract_generation.py says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["without_local_constants"]


@contextmanager
def without_local_constants() -> Iterator[None]:
    """No local constants in what Hypothesis generates while the block runs (every thread: the engine's
    workers draw in their own). Nested and concurrent blocks are counted; the last one out restores it."""
    providers = _providers()
    if providers is None:
        yield
        return
    with _LOCK:
        if _STATE["depth"] == 0:
            empty = providers.Constants()
            _STATE["original"] = providers._get_local_constants
            providers._get_local_constants = lambda: empty
            # Per-kind choices computed before hold local constants: drawn from again, they would still leak.
            providers.CONSTANTS_CACHE.cache.clear()
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0:
                providers._get_local_constants = _STATE["original"]
                _STATE["original"] = None
                providers.CONSTANTS_CACHE.cache.clear()  # and none of the empty pool's choices stay behind


def _providers() -> Any | None:
    """Hypothesis's providers module, if it has the pool this module turns off."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - schemathesis depends on Hypothesis
        return None
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    pool: Callable[[], Any] | None = getattr(providers, "_get_local_constants", None)
    if pool is None or not hasattr(providers, "Constants") or not hasattr(cache, "cache"):
        return None
    return providers


_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"depth": 0, "original": None}
