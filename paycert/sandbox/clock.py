"""A test clock: wall time plus an offset that tests move forward instead of sleeping."""

from __future__ import annotations

import time

from paycert.sandbox.store import Store

_KIND = "clock"


class TestClock:
    """Sandbox time. Payment expiry and the webhook retry schedule are read from here.

    The offset is kept in the store, so a restarted sandbox stays at the time it was moved to.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, store: Store) -> None:
        self._store = store
        saved = store.get(_KIND, "offset")
        self._offset = float(saved["seconds"]) if saved else 0.0

    def now(self) -> float:
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the test clock only moves forward")
        self._offset += seconds
        self._store.put(_KIND, "offset", {"seconds": self._offset})
        return self.now()
