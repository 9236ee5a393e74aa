"""What paycert does to every request schemathesis sends, and to every answer: fresh idempotency keys, and the
ledger of what the run created (paycert/plugin/contract_ledger.py).

schemathesis's `before_call` can only be a process-wide hook, so the hooks are registered once and find the
state of the run a request belongs to by the schema it was generated from.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from paycert.plugin.contract_ledger import Ledger, character_class, fresh_like, shape_choices

IDEMPOTENCY_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})
# A generated key whose shape allows fewer fresh keys than this (`0`, `ab`) is narrow: it gets the key of its
# request rather than a random one (`_fresh_idempotency_keys`).
MIN_FRESH_CHOICES = 10**6
MAX_NARROW_KEY_TRIES = 64  # seeded draws before the narrow shape is searched in order


@dataclass
class RunHooks:
    """The state one contract run's hooks keep."""

    ledger: Ledger
    sent_keys: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> the request it went with


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
        if isinstance(case.path_parameters, MutableMapping):
            hooks.ledger.guard(case.method, case.operation.label, case.operation.path, case.path_parameters)
        _fresh_idempotency_keys(hooks, case)  # after the ledger: a key goes with the path actually sent
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
    """A generated Idempotency-Key the gateway has seen with another request is a generator collision, not an
    API fault.

    A gateway keeps keys for a day or more and answers 422 to a known key with another body, which the
    positive-data check would blame on the gateway. Keys collide within a run (schemathesis reuses the spec's
    example key, and a short boundary key such as `0` goes out with many bodies) and across runs (with the
    deterministic generation a seed sends the same keys every time; a run against a sandbox or a test account
    that another run, or plain schemathesis, used before met their keys and failed CON-POSITIVE, then spent
    some forty requests shrinking that false finding). So:

    - a key whose shape allows a million fresh ones or more is replaced, each time it is sent, by a random one
      of the same shape (length, kind prefix, character classes: `contract_ledger.fresh_like`), which the
      spec allows exactly when it allowed the generated one;
    - a key of a narrower shape (`0`, `ab`: the generator's boundary cases) is replaced by one of the same shape
      chosen by the request it goes with: the same request gets the same key in every run of paycert (the
      gateway answers a replay), another request most likely another key, and never one this run sent with
      another request. A random one of so few would meet another run's with another request; the generated
      one, the key plain schemathesis sends with its own requests (the same seed). Still, so few keys may
      all be taken by other clients of the account.
    """
    headers = case.headers
    if not isinstance(headers, MutableMapping):
        return
    for name in list(headers):
        value = headers[name]
        if name.lower() not in IDEMPOTENCY_HEADERS or not isinstance(value, str):
            continue
        request = _fingerprint(case)
        if shape_choices(value) >= MIN_FRESH_CHOICES:
            value = _fresh_key(value, hooks.sent_keys)
        else:
            value = _key_for_request(value, request, hooks.sent_keys)
        headers[name] = value
        hooks.sent_keys.setdefault(value, request)


def _fresh_key(value: str, sent: Mapping[str, str]) -> str:
    """A random key of `value`'s shape that this run has not sent."""
    candidate = value
    for _ in range(8):
        candidate = str(fresh_like(value))
        if candidate != value and candidate not in sent:
            break
    return candidate


def _key_for_request(value: str, request: str, sent: Mapping[str, str]) -> str:
    """A key of `value`'s shape drawn from a generator seeded by `value` and the request: the same for the
    same request in every run; never one this run sent with another request while the shape has one left."""
    rng = random.Random(hashlib.sha256(f"paycert\n{value}\n{request}".encode()).digest())
    for _ in range(MAX_NARROW_KEY_TRIES):
        candidate = str(fresh_like(value, rng))
        if sent.get(candidate, request) == request:
            return candidate
    shapes = itertools.product(*(character_class(c) for c in value))  # the shape's last free keys, if any
    return next(("".join(c) for c in shapes if sent.get("".join(c), request) == request), value)


def _fingerprint(case: Any) -> str:
    """The request a key goes out with, as far as a gateway compares it for a replay."""
    return repr((case.method, case.operation.path, case.path_parameters, case.query, case.body))


_RUNS: dict[int, RunHooks] = {}  # by id() of the schema of a run in progress
_LOCK = threading.Lock()
_REGISTERED = False
