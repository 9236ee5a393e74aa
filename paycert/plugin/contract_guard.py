"""The live write guard (paycert/gateways/write_guard.py) on the requests schemathesis sends.

schemathesis sends with its own HTTP client, past paycert's seam, so the same rule is applied in a
`before_call` hook: on a live target a write the run does not allow is refused before it leaves, and with
writes allowed every amount in the body is capped. An `after_call` hook hands each payment a create operation
of the profile made to the gateway's client, which undoes it at the end of the run with the others. What a
write may touch (only what this run created) is the contract ledger's rule (paycert/plugin/contract_ledger.py).

schemathesis's hooks are process-wide: a guard is armed for a base URL while its contract run lasts, and
requests to any other base URL pass untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import schemathesis

from paycert.core.pointers import MISSING, resolve
from paycert.gateways.client import MONEY_OPERATIONS, ApiResult, GatewayClient
from paycert.gateways.http import HttpAnswer
from paycert.gateways.write_guard import WriteGuard


@contextmanager
def guarding(base_url: str, guard: WriteGuard, client: GatewayClient | None = None) -> Iterator[None]:
    """Apply `guard` to every schemathesis request to `base_url` while the block runs."""
    _register_once()
    key = base_url.rstrip("/")
    with _LOCK:
        _ARMED[key] = (guard, client)
    try:
        yield
    finally:
        with _LOCK:
            _ARMED.pop(key, None)


def guard_case(guard: WriteGuard, case: Any) -> None:
    """Refuse a write the run does not allow; cap the amounts of one it does (in place)."""
    guard.check(str(case.method), str(case.operation.path), _operation_id(case))
    if guard.live and isinstance(case.body, (dict, list)):
        capped, changed = guard.cap_body(case.body)
        if changed:
            case.body = capped


def _operation_id(case: Any) -> str | None:
    raw = getattr(getattr(case.operation, "definition", None), "raw", None)
    found = raw.get("operationId") if isinstance(raw, dict) else None
    return str(found) if found else None


def _armed(case: Any) -> tuple[WriteGuard, GatewayClient | None] | None:
    base = str(getattr(case.operation, "base_url", "") or case.operation.schema.get_base_url()).rstrip("/")
    with _LOCK:
        return _ARMED.get(base)


def _register_once() -> None:
    global _REGISTERED  # noqa: PLW0603 - schemathesis's hook registry is itself process-wide
    with _LOCK:
        if _REGISTERED:
            return
        _REGISTERED = True

    @schemathesis.hook("before_call")
    def paycert_live_guard(context: Any, case: Any, kwargs: Any) -> None:
        armed = _armed(case)
        if armed is not None:
            guard_case(armed[0], case)
        _ = (context, kwargs)

    @schemathesis.hook("after_call")
    def paycert_live_created(context: Any, case: Any, response: Any) -> None:
        armed = _armed(case)
        if armed is not None and armed[1] is not None:
            _hand_over(armed[1], case, response, live=armed[0].live)
        _ = context


def _hand_over(client: GatewayClient, case: Any, response: Any, *, live: bool) -> None:
    """A payment (or webhook registration) the contract run created through the profile's operations, for
    the undo at the end of the run. On a sandbox only the registrations: its payments cost nothing, but a
    registration left there sends every later event of a reused sandbox to a generated URL."""
    if not 200 <= int(response.status_code) < 300:
        return
    operation_id = _operation_id(case)
    try:
        body = response.json()
    except ValueError:
        return
    for name in (*MONEY_OPERATIONS, "register_webhook") if live else ("register_webhook",):
        declared = client.profile.operations.get(name) or {}
        if declared.get("operation_id") != operation_id:
            continue
        key = "webhook_id" if name == "register_webhook" else "payment_id"
        pointer = (declared.get("result") or {}).get(key)
        found = resolve(body, str(pointer)) if pointer else MISSING
        if found is MISSING or found in (None, ""):
            return
        answer = HttpAnswer(int(response.status_code), httpx.Headers(), body, "", "", [], 0.0)
        sent = case.body if isinstance(case.body, dict) else {}
        context = {
            "amount": _field(sent, "amount"),
            "currency": _field(sent, "currency") or "",
            "reference": f"contract {case.method} {case.operation.path}",
        }
        client.remember(name, ApiResult(name, answer, {key: found}), context)
        return


def _field(body: dict[str, Any], word: str) -> Any:
    """The first top-level field whose name holds `word` (`amount`, `totalAmount`; `currency`)."""
    return next((v for k, v in body.items() if word in str(k).lower()), None)


_ARMED: dict[str, tuple[WriteGuard, GatewayClient | None]] = {}
_LOCK = threading.Lock()
_REGISTERED = False
