"""Running schemathesis over one gateway's OpenAPI document and sorting what it found by criterion.

The budget is spent breadth first. schemathesis is given the time left (`max_time`): it then splits each
phase's share evenly over the operations and holds time back for the phases after it, so every operation
gets its examples (a generated positive case when the spec has none: `fill-missing`) before any operation gets
coverage cases or fuzzing, and no operation's thousands of coverage cases can eat the budget of the others.
When the time is up schemathesis stops before its next request and still hands over what the operation in
progress sent and found, so those requests and findings are counted too. A timer of paycert's own stops the
engine outright if it ever overruns; and once every phase has run once the run ends, rather than cycling
through fuzzing again until the deadline. What was not tested is then reported as not evaluated, never as
passed.

What the engine reports splits in two, strictly: a failed check is the *target's* finding (with
schemathesis's curl line to reproduce it), an operation the engine could not test (a schema it cannot
generate from, an unfetchable `$ref`, a security scheme paycert cannot apply) is the *harness's* error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, StopReason, events, from_schema

from paycert.plugin.contract_auth import AuthPlan, TokenSettings, plan_auth
from paycert.plugin.contract_checks import CHECK_CRITERIA, checks_config
from paycert.plugin.contract_constants import without_local_constants
from paycert.plugin.contract_hooks import RunHooks, hooked
from paycert.plugin.contract_ledger import Ledger
from paycert.plugin.contract_scope import operation_labels, select_operations, unfetchable_refs
from paycert.targets.contract_filter import OperationFilter

__all__ = [
    "TESTING_PHASES",
    "ContractBudget",
    "ContractRun",
    "ContractSettings",
    "Finding",
    "ToolError",
    "operation_labels",
    "run_contract",
]

MAX_FINDINGS_PER_CRITERION = 200
NEGATIVE_CHECKS = frozenset({"negative_data_rejection", "missing_required_header"})
# Checks that judge a request by the resource a link gave it: said of a request the ledger sent to a fresh id
# instead, they would blame the gateway for paycert's redirect ("a resource that was just created" not found).
LINKED_CHECKS = frozenset({"ensure_resource_availability"})
# Checks whose "success" says nothing by itself: `ignored_auth` succeeds without sending anything on an
# operation whose credential it cannot find, and `object_level_authorization` needs two identities.
AUTH_PROBE_CHECK = "ignored_auth"
VACUOUS_SUCCESS = frozenset({"object_level_authorization"})
# What schemathesis's auth probes send as a wrong credential.
INVALID_CREDENTIAL = "SCHEMATHESIS-INVALID-VALUE"
OVERRUN_GRACE_S = 2.0  # paycert stops the engine itself this long after the deadline, if it has not stopped
TESTING_PHASES = ("examples", "coverage", "fuzzing", "stateful")
WORKERS = 1  # more threads race in CPython 3.11's ast module (hypothesis parses lambda sources)


@dataclass(frozen=True)
class ContractSettings:
    """What a QA can set for the contract phase (`--contract-examples`, `--contract-budget`, `--seed`)."""

    examples: int = 10
    seed: int = 0
    live_read_only: bool = False  # a live target without --allow-live-writes: GET only, positive data only
    request_timeout: float = 10.0
    tls_verify: bool | str = True


@dataclass(frozen=True)
class ContractBudget:
    """The QA's budget for the whole contract phase: every gateway's run shares one deadline."""

    examples: int
    budget_s: float
    seed: int
    deadline: float
    started: list[str] = field(default_factory=list, compare=False)  # gateways whose run has begun

    def share(self, gateway: str, gateways: list[str], clock: Callable[[], float] = time.monotonic) -> float:
        """This gateway's deadline: an even share of what is left among the gateways still to run.

        A large first spec would otherwise spend the whole budget and leave the others untested; time a
        quick gateway does not use flows to the ones after it.
        """
        if gateway not in self.started:
            self.started.append(gateway)
        waiting = [g for g in gateways if g not in self.started]
        now = clock()
        return now + max(self.deadline - now, 0.0) / (len(waiting) + 1)


@dataclass(frozen=True)
class Finding:
    """A check that failed on the target: its first (shrunk) reproduction per operation."""

    criterion: str
    check: str
    operation: str
    title: str
    message: str
    curl: str
    status: int | None
    response_body: str
    method: str = ""
    url: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class ToolError:
    """An operation schemathesis could not test: the harness's limitation, never the target's finding."""

    operation: str
    title: str
    message: str


@dataclass
class ContractRun:
    """Everything one generated run found, by criterion."""

    operations: tuple[str, ...]
    excluded: dict[str, str]
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    passed_checks: dict[str, set[str]] = field(default_factory=dict)  # criterion -> operations checked ok
    tool_errors: list[ToolError] = field(default_factory=list)
    stateful_ran: bool = False
    stateful_skip: str = ""
    stopped_by_budget: bool = False
    phases_done: list[str] = field(default_factory=list)  # testing phases that ran to their end
    stopped_in: str = ""  # the phase the budget stopped, if it did
    tested: set[str] = field(default_factory=set)  # operations that got at least one answer
    elapsed_s: float = 0.0
    requests: int = 0
    credential_headers: frozenset[str] = frozenset({"authorization"})
    blocked: dict[str, str] = field(default_factory=dict)  # operation -> why paycert could not test it
    unselected: int = 0  # operations the target's `contract:` filter leaves out
    selection: str = ""  # that filter, as the report shows it
    redirected: dict[str, int] = field(default_factory=dict)  # operation -> writes sent to a fresh id
    secrets: tuple[str, ...] = field(default=(), repr=False)  # tokens paycert fetched, for the redaction

    def add_finding(self, finding: Finding) -> None:
        """Keep every distinct failure (by operation, check and title); the suite picks what to show."""
        known = self.findings.setdefault(finding.criterion, [])
        key = (finding.operation, finding.check, finding.title, finding.message)
        if len(known) < MAX_FINDINGS_PER_CRITERION and not any(
            (f.operation, f.check, f.title, f.message) == key for f in known
        ):
            known.append(finding)

    @property
    def untested(self) -> list[str]:
        """Operations the run should have tested and did not reach (the blocked ones are reported apart)."""
        return [op for op in self.operations if op not in self.tested and op not in self.blocked]


def build_config(
    plan: AuthPlan,
    base_url: str,
    settings: ContractSettings,
    disabled: set[str],
) -> SchemathesisConfig:
    operations: list[dict[str, Any]] = (
        [{"include-name": sorted(disabled), "enabled": False}] if disabled else []
    )
    # The target's credential headers, on the operations whose security does not use them (sent as written).
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for label, extra in plan.per_operation.items():
        if label not in disabled:
            groups.setdefault(tuple(sorted(extra.items())), []).append(label)
    operations += [{"include-name": sorted(labels), "headers": dict(h)} for h, labels in groups.items()]
    generation: dict[str, Any] = {"max-examples": settings.examples, "deterministic": True}
    # The examples phase is the breadth pass: every operation gets a positive case (a generated one when its
    # spec gives no example) and its answer checked. The auth probes (two more requests per case) wait for
    # the coverage phase, where they run on every operation's valid cases too: on Adyen's 134 operations
    # served by Prism they were a third of the examples phase's time.
    phases: dict[str, Any] = {
        "examples": {"fill-missing": True, "checks": {AUTH_PROBE_CHECK: {"enabled": False}}}
    }
    if settings.live_read_only:
        generation["mode"] = "positive"
        phases |= {"coverage": {"enabled": False}, "stateful": {"enabled": False}}
    raw: dict[str, Any] = {
        "base-url": base_url,
        "headers": plan.headers,
        "seed": settings.seed,
        "generation": generation,
        "checks": checks_config(live_read_only=settings.live_read_only),
        "request-timeout": settings.request_timeout,
        "tls-verify": settings.tls_verify,
        "continue-on-failure": True,
        "warnings": False,
        "workers": WORKERS,
        "operations": operations,
        "phases": phases,
    }
    if plan.auth:
        raw["auth"] = {"openapi": plan.auth}
    return SchemathesisConfig.from_dict(raw)


def run_contract(
    document: dict[str, Any],
    base_url: str,
    headers: Mapping[str, str],
    settings: ContractSettings,
    *,
    deadline: float,
    never: frozenset[str] = frozenset(),
    credentials: Mapping[str, str] | None = None,
    only: OperationFilter | None = None,
    location: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ContractRun:
    """Run every phase (examples, coverage, fuzzing, stateful through links) once, until `deadline`.

    `credentials` feed the spec's OAuth2 flows; `only` is the target's `contract:` filter; `location` (the
    spec's path or URL) is where relative `$ref`s are resolved from.
    """
    selection = select_operations(document, never, only=only, live_read_only=settings.live_read_only)
    result = ContractRun(
        operations=tuple(selection.operations),
        excluded=selection.excluded,
        unselected=len(selection.unselected),
        selection=str(only) if only is not None else "",
    )
    if only is not None and not selection.operations:
        result.tool_errors.append(
            ToolError(
                "(target)", "contract filter", f"the target's contract filter ({only}) selects no operation"
            )
        )
    if not selection.operations:
        return result
    if clock() >= deadline:
        # Earlier gateways spent the shared budget: nothing of this one is tested, and the report says why.
        result.stopped_by_budget = True
        return result
    for url, (why, users) in unfetchable_refs(
        document, selection.operations, location, verify=settings.tls_verify
    ).items():
        result.tool_errors.append(
            ToolError("(spec)", "unfetchable $ref", f"{url} {why}; used by {', '.join(users)}")
        )
        for label in users:
            result.blocked[label] = f"its $ref {url} {why}"
    plan = plan_auth(
        document,
        {k: v for k, v in selection.operations.items() if k not in result.blocked},
        headers,
        credentials or {},
        TokenSettings(
            base_url=base_url,
            servers=tuple(
                str(s.get("url", "")) for s in document.get("servers") or () if isinstance(s, dict)
            ),
            verify=settings.tls_verify,
            timeout=settings.request_timeout,
        ),
    )
    result.blocked.update(plan.unauthenticated)
    result.credential_headers = plan.credential_headers
    result.secrets = plan.tokens
    if all(op in result.blocked for op in result.operations):
        return result
    disabled = set(selection.excluded) | set(selection.unselected) | set(result.blocked)
    schema = schemathesis.openapi.from_dict(
        plan.document, config=build_config(plan, base_url, settings, disabled)
    )
    if location:
        # Relative `$ref`s resolve against the spec's own location, as they would for its author.
        schema.location = location if urlsplit(location).scheme else Path(location).absolute().as_uri()
    ledger = Ledger(document)
    started = clock()
    # Generated from the spec and Hypothesis's own constants only, never from paycert's source literals.
    with without_local_constants(), hooked(schema, RunHooks(ledger=ledger)):
        _drive(schema, result, deadline, clock, ledger)
    result.redirected = dict(ledger.redirected)
    result.elapsed_s = clock() - started
    return result


@dataclass
class _Progress:
    """What the consumer of the event stream knows about the phases while they run."""

    budget_spent: threading.Event = field(default_factory=threading.Event)
    current: str = ""  # the testing phase running now
    current_started_in_time: bool = False
    first_pass_done: bool = False


def _drive(
    schema: Any, result: ContractRun, deadline: float, clock: Callable[[], float], ledger: Ledger
) -> None:
    # schemathesis keeps the budget itself (see the module's documentation); a float is fine for it.
    schema.config.max_time = max(deadline - clock(), 0.001)
    stream = from_schema(schema).execute()
    progress = _Progress()

    def overrun() -> None:
        # Runs on the timer's thread: the engine missed its own deadline. Stopping it outright loses the
        # operation in progress, so this is only the backstop.
        result.stopped_by_budget = True
        stream.stop()

    spent = threading.Timer(max(deadline - clock(), 0.0), progress.budget_spent.set)
    backstop = threading.Timer(max(deadline - clock(), 0.0) + OVERRUN_GRACE_S, overrun)
    for timer in (spent, backstop):
        timer.daemon = True
        timer.start()
    try:
        _consume(stream, result, progress, ledger)
    finally:
        spent.cancel()
        backstop.cancel()
    if progress.budget_spent.is_set() and not progress.first_pass_done:
        result.stopped_by_budget = True


def _consume(stream: Any, result: ContractRun, progress: _Progress, ledger: Ledger) -> None:
    for event in stream:
        if isinstance(event, events.PhaseStarted) and event.phase.name.value in TESTING_PHASES:
            progress.current = event.phase.name.value
            progress.current_started_in_time = not progress.budget_spent.is_set()
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value in TESTING_PHASES:
            _phase_finished(stream, result, progress, event)
        if isinstance(event, events.ScenarioFinished):
            _collect(result, event, ledger)
        elif isinstance(event, events.NonFatalError):
            _non_fatal(result, event)
        elif isinstance(event, events.FatalError):
            result.tool_errors.append(
                ToolError("(run)", type(event.exception).__name__, str(event.exception).splitlines()[0])
            )
        elif (
            isinstance(event, events.EngineFinished)
            and event.stop_reason is StopReason.MAX_TIME
            and not progress.first_pass_done
        ):
            result.stopped_by_budget = True


def _phase_finished(
    stream: Any, result: ContractRun, progress: _Progress, event: events.PhaseFinished
) -> None:
    name = event.phase.name.value
    if progress.budget_spent.is_set() and not progress.first_pass_done:
        # A phase still running when the time was up was cut short: that is where the budget ran out. The
        # phases after it are only announced and skipped.
        if progress.current == name and progress.current_started_in_time:
            result.stopped_in = result.stopped_in or name
    elif name not in result.phases_done:
        result.phases_done.append(name)
    progress.current = ""
    if name == "stateful":
        result.stateful_ran = result.stateful_ran or event.status not in (Status.SKIP, Status.ERROR)
        if event.phase.skip_reason is not None:
            result.stateful_skip = str(event.phase.skip_reason.value)
        if not progress.budget_spent.is_set():
            # Every phase ran once. With a time budget schemathesis would cycle through fuzzing and stateful
            # again until the deadline; one pass is what the QA asked for, and the next gateway gets the rest.
            progress.first_pass_done = True
            stream.stop()


def _non_fatal(result: ContractRun, event: events.NonFatalError) -> None:
    label = event.label if event.related_to_operation else "(run)"
    message = (event.info.message or event.info.title).splitlines()[0]
    if isinstance(event.value, requests.RequestException):
        # The target did not answer (reset, timeout): its finding, not the harness's.
        result.add_finding(
            Finding(
                criterion=CHECK_CRITERIA["not_a_server_error"],
                check="not_a_server_error",
                operation=label,
                title="no answer",
                message=message,
                curl=event.info.code_sample or "",
                status=None,
                response_body="",
            )
        )
    else:
        result.tool_errors.append(ToolError(label, event.info.title, message))


def _collect(result: ContractRun, event: events.ScenarioFinished, ledger: Ledger) -> None:
    """Count and sort one scenario, finished or cut short by the budget: its requests count either way."""
    recorder = event.recorder
    result.requests += len(recorder.interactions)
    if (
        event.phase.value != "stateful"
        and recorder.label
        and any(i.response is not None for i in recorder.interactions.values())
    ):
        result.tested.add(recorder.label)
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            criterion = CHECK_CRITERIA.get(node.name)
            if criterion is None:
                continue
            case = recorder.cases.get(case_id)
            if (
                node.name in LINKED_CHECKS
                and case is not None
                and isinstance(case.value.path_parameters, Mapping)
                and ledger.redirected_to(case.value.path_parameters)
            ):
                continue  # not the linked resource that was asked for: no evidence either way
            if node.name in NEGATIVE_CHECKS and (
                _is_missing_credential(node.failure_info.failure, result)
                if node.failure_info is not None
                else case is not None
                and _targets_credential(case.value, result)
                and _refused(recorder.interactions.get(case_id))
            ):
                # A request without (or with a broken) credential says something about auth, not about data:
                # served, it is an auth finding; refused, it is evidence that auth is enforced.
                criterion = CHECK_CRITERIA["ignored_auth"]
            operation = recorder.label
            if case is not None:
                operation = f"{case.value.method.upper()} {case.value.path}"
            if node.status is Status.FAILURE and node.failure_info is not None:
                result.add_finding(_finding(criterion, node, operation, recorder.interactions.get(case_id)))
            elif node.status is Status.SUCCESS and _evidences(node.name, recorder, case_id, result):
                result.passed_checks.setdefault(criterion, set()).add(operation)


def _finding(criterion: str, node: Any, operation: str, interaction: Any) -> Finding:
    info = node.failure_info
    response = interaction.response if interaction is not None else None
    request = interaction.request if interaction is not None else None
    return Finding(
        criterion=criterion,
        check=node.name,
        operation=info.failure.operation or operation,
        title=info.failure.title,
        message=info.failure.message.strip(),
        curl=info.code_sample,
        status=response.status_code if response is not None else None,
        response_body=_text(response.content if response is not None else b""),
        method=request.method if request is not None else "",
        url=request.uri if request is not None else "",
        request_headers=_flat(request.headers) if request is not None else {},
        request_body=_text(request.body) if request is not None and request.body else None,
        response_headers=_flat(response.headers) if response is not None else {},
        elapsed_ms=response.elapsed * 1000 if response is not None else 0.0,
    )


def _evidences(check: str, recorder: Any, case_id: str, result: ContractRun) -> bool:
    """Whether a check's success shows something about the target: the evidence rule for generated checks.

    `ignored_auth` succeeds silently when it finds no credential to leave out (an OAuth2 scheme, an
    operation without security): only a success after it really sent the request without, or with a wrong,
    credential is evidence.
    """
    if check in VACUOUS_SUCCESS:
        return False
    parent = recorder.cases.get(case_id)
    if check != AUTH_PROBE_CHECK:
        return True
    if parent is None:
        return False
    carried = _headers(parent.value).keys() & result.credential_headers
    return bool(carried) and any(
        node.parent_id == case_id
        and node.value.operation.label == parent.value.operation.label
        and _lacks(node.value, carried)
        for node in recorder.cases.values()
    )


def _lacks(case: Any, names: set[str]) -> bool:
    """Whether a probe went out without one of these credential headers, or with a wrong one."""
    headers = _headers(case)
    return any(name not in headers or INVALID_CREDENTIAL in headers[name] for name in names)


def _headers(case: Any) -> dict[str, str]:
    raw = case.headers if isinstance(case.headers, Mapping) else {}
    return {str(k).lower(): str(v) for k, v in raw.items()}


def _refused(interaction: Any) -> bool:
    """An answer that refuses the caller (401, 403), not one that is merely an error for other reasons."""
    response = getattr(interaction, "response", None)
    return response is not None and response.status_code in (401, 403)


def _targets_credential(case: Any, result: ContractRun) -> bool:
    """Whether a coverage case left out or broke a credential header on purpose."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    parameter = getattr(data, "parameter", None)
    location = getattr(getattr(data, "parameter_location", None), "value", None)
    return (
        isinstance(parameter, str) and location == "header" and parameter.lower() in result.credential_headers
    )


def _is_missing_credential(failure: Any, result: ContractRun) -> bool:
    """Whether the data the check found wrong is only the credential (left out or broken on purpose)."""
    header = str(getattr(failure, "header_name", "") or "").lower()
    if header in result.credential_headers:
        return True
    message = str(getattr(failure, "message", "")).lower()
    return any(f"`{name}`" in message and "header" in message for name in result.credential_headers)


def _flat(headers: Mapping[str, Any]) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) and v else str(v) for k, v in headers.items()}


def _text(content: bytes | None, limit: int = 2000) -> str:
    if not content:
        return ""
    return content[:limit].decode("utf-8", errors="replace")
