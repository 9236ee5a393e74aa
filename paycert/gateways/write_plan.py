"""`paycert run --plan`: every kind of write a run would make per gateway, worked out from the target and the
profiles alone (nothing is sent), so QA can approve a live run before it happens.

Each line says which operation writes, the most it can move, and how it is undone at the end of the run; what
nothing can undo says so, since the run will then end with a harness error naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from paycert.gateways.client import IRREVERSIBLE, MONEY_OPERATIONS
from paycert.gateways.write_guard import SAFE_METHODS, WriteGuard
from paycert.targets.target import GatewayTarget, Target

# Operations that act on a payment this run created: undone by undoing that payment.
FOLLOW_UPS = frozenset({"refund", "capture", "void"})


@dataclass(frozen=True)
class PlannedWrite:
    gateway: str
    operation: str  # canonical name, or METHOD /path for what only the contract suite sends
    request: str  # METHOD /path
    max_amount: Decimal | None  # None: moves no money
    undo: str
    sent: bool = True  # False: refused by the live guard in this run


def plan_writes(target: Target, *, allow_writes: bool) -> list[PlannedWrite]:
    """What the run would write, gateway by gateway (live ones in full, others said to be unguarded)."""
    planned: list[PlannedWrite] = []
    for gateway in target.gateways.values():
        guard = WriteGuard.for_target(
            gateway, allow_writes=allow_writes, run_max_amount=target.live_max_amount
        )
        planned += _profile_writes(gateway, guard) + _contract_writes(gateway, guard)
    return planned


def _profile_writes(gateway: GatewayTarget, guard: WriteGuard) -> list[PlannedWrite]:
    profile = gateway.profile
    if profile is None:
        return []
    found: list[PlannedWrite] = []
    token = profile.auth.get("operation") or {}
    if token.get("operation_id"):
        op = profile.spec.operation(str(token["operation_id"]))
        found.append(
            PlannedWrite(gateway.id, "token request", f"{op.method} {op.path}", None, "nothing to undo")
        )
    for name, declared in profile.operations.items():
        op = profile.spec.operation(str(declared["operation_id"]))
        if op.method.upper() in SAFE_METHODS:
            continue
        sent = guard.may_write or op.operation_id in guard.exempt
        if name == "configure_webhook" and gateway.is_live:
            sent = False  # live: the merchant's endpoint is never overwritten (nothing reads it back)
        found.append(
            PlannedWrite(
                gateway.id,
                name,
                f"{op.method} {op.path}",
                guard.max_amount if (name in MONEY_OPERATIONS or name in FOLLOW_UPS) else None,
                _undo_of(name, profile.offers),
                sent,
            )
        )
    return found


def _undo_of(name: str, has: Callable[[str], bool]) -> str:
    if name in IRREVERSIBLE:
        return f"NOT undone ({IRREVERSIBLE[name]}): listed as a harness error, exit 2"
    if name in MONEY_OPERATIONS:
        ways = [w for w in ("refund", "void") if has(w)]
        if not ways:
            return "NOT undone (the profile offers no refund or void): listed as a harness error, exit 2"
        return " or ".join(ways) + " at the end of the run"
    if name in FOLLOW_UPS:
        return "on a payment this run created, itself undone at the end"
    if name == "register_webhook":
        if has("delete_webhook"):
            return "delete_webhook at the end of the run (only if no registration already points at paycert)"
        return "NOT undone (no delete_webhook): listed as a harness error, exit 2"
    if name == "create_invoice":
        return "moves no money; the payment made through its link is refunded at the end of the run"
    if name == "configure_webhook":
        return "never sent to a live gateway: the configured endpoint is the merchant's"
    return "no undo known: listed as a harness error if it succeeds"


def _contract_writes(gateway: GatewayTarget, guard: WriteGuard) -> list[PlannedWrite]:
    """The contract suite's writes: only with writes allowed, only to what this run created (its ledger)."""
    if not gateway.is_live:
        return []
    document = gateway.spec.document
    found: list[PlannedWrite] = []
    for path, item in (document.get("paths") or {}).items():
        for method, op in (item or {}).items() if isinstance(item, dict) else ():
            if not isinstance(op, dict) or method.upper() in SAFE_METHODS or "operationId" not in op:
                continue
            if method.upper() not in {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            found.append(
                PlannedWrite(
                    gateway.id,
                    f"contract: {op['operationId']}",
                    f"{method.upper()} {path}",
                    guard.max_amount,
                    "only on resources this run created (the contract ledger); payments created are undone "
                    "as above; singleton resources are never written",
                    guard.may_write,
                )
            )
    return found


def render(planned: list[PlannedWrite], target: Target, *, allow_writes: bool) -> list[str]:
    """The plan as lines for the terminal, grouped by gateway."""
    lines = [
        f"write plan for {target.name} ({'writes allowed' if allow_writes else 'no --allow-live-writes'})"
    ]
    for gateway in target.gateways.values():
        mine = [p for p in planned if p.gateway == gateway.id]
        live = "live" if gateway.is_live else "not live: writes are not guarded"
        lines.append(f"{gateway.id} ({live}):")
        for item in mine:
            cap = f"max {item.max_amount}" if item.max_amount is not None else "no money"
            state = "sent" if item.sent or not gateway.is_live else "REFUSED (not sent)"
            lines.append(f"  {item.operation:<28} {item.request:<52} {cap:<10} {state}; undo: {item.undo}")
    lines.append("nothing was sent")
    return lines
