"""What paycert does to every request schemathesis sends, and to every answer: fresh idempotency keys, and the
ledger of what the run created (paycert/plugin/contract_ledger.py).

schemathesis's `before_call` can only be a process-wide hook, so the hooks are registered once and find the
state of the run a request belongs to by the schema it was generated from.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from paycert.plugin.contract_ledger import Ledger

IDEMPOTENCY_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})


@dataclass
class RunHooks:
    """The state one contract run's hooks keep."""

    ledger: Ledger
    seen_keys: set[str] = field(default_factory=set)


@contextmanager
def hooked(schema: Any, hooks: RunHooks) -> Iterator[RunHooks]:
    """Apply `hooks` to every request generated from `schema` while the block runs."""
    _register_once()
    with _LOCK:
        _RUNS[id(schema)] = hooks
    try:
        yield hooks
    finally:
        with _LOCK:
            _RUNS.pop(id(schema), None)


def _register_once() -> None:
    global _REGISTERED  # noqa: PLW0603 - schemathesis's hook registry is itself process-wide
    with _LOCK:
        if _REGISTERED:
            return
        _REGISTERED = True

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        hooks = _RUNS.get(id(case.operation.schema))
        if hooks is None:
            return
        _fresh_idempotency_keys(hooks, case)
        if isinstance(case.path_parameters, MutableMapping):
            hooks.ledger.guard(case.method, case.operation.label, case.operation.path, case.path_parameters)
        _ = (context, kwargs)

    @schemathesis.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        hooks = _RUNS.get(id(case.operation.schema))
        if hooks is None:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        hooks.ledger.record(case.method, case.operation.path, response.status_code, body, response.headers)
        _ = context


def _fresh_idempotency_keys(hooks: RunHooks, case: Any) -> None:
    """A generated Idempotency-Key repeated with another body is a generator collision, not an API fault.

    schemathesis reuses the spec's example key across cases; a correct gateway then answers 422 (key reused
    with another request), which the positive-data check would blame on the gateway. A key is kept the first
    time it is seen in a run and replaced by a fresh one on every reuse.
    """
    headers = case.headers
    if not isinstance(headers, MutableMapping):
        return
    for name in list(headers):
        value = headers[name]
        if name.lower() in IDEMPOTENCY_HEADERS and isinstance(value, str):
            if value in hooks.seen_keys and len(value) >= 8:
                headers[name] = _fresh_key(len(value))
            hooks.seen_keys.add(headers[name])


def _fresh_key(length: int) -> str:
    """A new key as long as the one it replaces, so a length the spec forbids stays forbidden."""
    key = uuid.uuid4().hex
    while len(key) < length:
        key += uuid.uuid4().hex
    return key[:length]


_RUNS: dict[int, RunHooks] = {}  # by id() of the schema of a run in progress
_LOCK = threading.Lock()
_REGISTERED = False
