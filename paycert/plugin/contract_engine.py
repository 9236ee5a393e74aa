"""Running schemathesis over one gateway's OpenAPI document and sorting what it found by criterion.

paycert keeps the clock: a timer stops the engine at the contract phase's deadline, and schemathesis honours
the stop before its next request (one operation can send thousands of coverage cases, so waiting for the next
engine event overran the budget by a minute on Adyen's Checkout spec). What was not tested is then reported as
not evaluated, never as passed. What the engine reports
splits in two, strictly: a failed check is the *target's* finding (with schemathesis's curl line to reproduce
it), an operation the engine could not test (a schema it cannot generate from, a network error) is the
*harness's* error.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, StopReason, events, from_schema

from paycert.plugin.contract_checks import CHECK_CRITERIA, checks_config

# Tags and extensions that mark operations fuzzing must leave alone: paycert's own token request is driven by
# the profile, and sandbox-only operations stand in for configuration a real gateway does out of band.
EXCLUDED_TAGS = ("sandbox-only",)
SANDBOX_ONLY_EXTENSION = "x-sandbox-only"
MAX_FINDINGS_PER_CRITERION = 200
NEGATIVE_CHECKS = frozenset({"negative_data_rejection", "missing_required_header"})
IDEMPOTENCY_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})


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
    tested: set[str] = field(default_factory=set)
    elapsed_s: float = 0.0
    requests: int = 0
    credential_headers: frozenset[str] = frozenset({"authorization"})

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
        return [op for op in self.operations if op not in self.tested]


def excluded_operations(document: Mapping[str, Any], never: frozenset[str]) -> dict[str, str]:
    """Operations fuzzing leaves alone, by label ("POST /path"), with the reason."""
    excluded: dict[str, str] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, op in item.items():
            if not isinstance(op, dict) or method.startswith("x-") or method in ("parameters", "servers"):
                continue
            label = f"{method.upper()} {path}"
            if op.get("operationId") in never:
                excluded[label] = "the token request: paycert drives it from the profile (AUTH-*)"
            elif op.get(SANDBOX_ONLY_EXTENSION) or set(op.get("tags") or ()) & set(EXCLUDED_TAGS):
                excluded[label] = "sandbox-only: stands in for out-of-band configuration"
    return excluded


def operation_labels(document: Mapping[str, Any]) -> list[str]:
    found = []
    for path, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            for method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                if isinstance(item.get(method), dict):
                    found.append(f"{method.upper()} {path}")
    return found


def split_auth(
    document: Mapping[str, Any], headers: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The target's auth headers as schemathesis `auth.openapi` entries, by the spec's security schemes.

    Given as auth (not as plain headers), schemathesis knows which header is the credential, so its checks
    can really leave it out (`ignored_auth`, a missing `Authorization`). Headers no scheme describes stay
    plain headers sent with every request.
    """
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    auth: dict[str, Any] = {}
    rest = dict(headers)
    for name, scheme in schemes.items():
        if not isinstance(scheme, dict):
            continue
        kind = str(scheme.get("type", "")).lower()
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            value = _pop_header(rest, "Authorization")
            if value is not None and value.lower().startswith("bearer "):
                auth[name] = {"bearer": value[7:]}
            elif value is not None:
                rest["Authorization"] = value
        elif kind == "apikey" and scheme.get("in") == "header" and scheme.get("name"):
            value = _pop_header(rest, str(scheme["name"]))
            if value is not None:
                auth[name] = {"api_key": value}
    return auth, rest


def credential_headers(document: Mapping[str, Any]) -> frozenset[str]:
    """The (lower-case) header names that carry credentials, by the spec's security schemes."""
    names = {"authorization"}
    for scheme in ((document.get("components") or {}).get("securitySchemes") or {}).values():
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            names.add(str(scheme.get("name", "")).lower())
    return frozenset(names)


def _pop_header(headers: dict[str, str], name: str) -> str | None:
    for key in list(headers):
        if key.lower() == name.lower():
            return headers.pop(key)
    return None


def build_config(
    document: Mapping[str, Any],
    base_url: str,
    headers: Mapping[str, str],
    settings: ContractSettings,
    excluded: Mapping[str, str],
) -> SchemathesisConfig:
    disabled: list[dict[str, Any]] = (
        [{"include-name": sorted(excluded), "enabled": False}] if excluded else []
    )
    generation: dict[str, Any] = {"max-examples": settings.examples, "deterministic": True}
    phases: dict[str, Any] = {}
    if settings.live_read_only:
        generation["mode"] = "positive"
        disabled.append({"include-method-regex": "^(?!GET$).*", "enabled": False})
        phases = {"coverage": {"enabled": False}, "stateful": {"enabled": False}}
    auth, plain = split_auth(document, headers)
    raw: dict[str, Any] = {
        "base-url": base_url,
        "headers": plain,
        "seed": settings.seed,
        "generation": generation,
        "checks": checks_config(live_read_only=settings.live_read_only),
        "request-timeout": settings.request_timeout,
        "tls-verify": settings.tls_verify,
        "continue-on-failure": True,
        "warnings": False,
        "operations": disabled,
    }
    if phases:
        raw["phases"] = phases
    if auth:
        raw["auth"] = {"openapi": auth}
    return SchemathesisConfig.from_dict(raw)


def run_contract(
    document: dict[str, Any],
    base_url: str,
    headers: Mapping[str, str],
    settings: ContractSettings,
    *,
    deadline: float,
    never: frozenset[str] = frozenset(),
    clock: Callable[[], float] = time.monotonic,
) -> ContractRun:
    """Run every phase (examples, coverage, fuzzing, stateful through links) once, until `deadline`."""
    excluded = excluded_operations(document, never)
    operations = tuple(op for op in operation_labels(document) if op not in excluded)
    if settings.live_read_only:
        operations = tuple(op for op in operations if op.startswith("GET "))
    result = ContractRun(
        operations=operations, excluded=excluded, credential_headers=credential_headers(document)
    )
    if not operations:
        return result
    if clock() >= deadline:
        # Earlier gateways spent the shared budget: nothing of this one is tested, and the report says why.
        result.stopped_by_budget = True
        return result
    config = build_config(document, base_url, headers, settings, excluded)
    schema = schemathesis.openapi.from_dict(document, config=config)
    _fresh_idempotency_keys(schema)
    started = clock()
    try:
        _drive(schema, result, deadline, clock)
    finally:
        _SEEN_KEYS.pop(id(schema), None)
    result.elapsed_s = clock() - started
    return result


TESTING_PHASES = ("examples", "coverage", "fuzzing", "stateful")


def _drive(schema: Any, result: ContractRun, deadline: float, clock: Callable[[], float]) -> None:
    stream = from_schema(schema).execute()

    def spend() -> None:
        # Runs on the timer's thread: schemathesis checks the stop event before each case it sends, so the
        # run ends within one request of the deadline, not at the end of the operation in progress.
        result.stopped_by_budget = True
        stream.stop()

    timer = threading.Timer(max(deadline - clock(), 0.0), spend)
    timer.daemon = True
    timer.start()
    try:
        _consume(stream, result)
    finally:
        timer.cancel()


def _consume(stream: Any, result: ContractRun) -> None:
    for event in stream:
        if isinstance(event, events.PhaseStarted) and event.phase.name.value in TESTING_PHASES:
            if result.stopped_by_budget and not result.stopped_in:
                result.stopped_in = event.phase.name.value
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value in TESTING_PHASES:
            name = event.phase.name.value
            # A phase that ends after the stop was cut short: it is where the budget ran out, not done.
            if result.stopped_by_budget:
                result.stopped_in = result.stopped_in or name
            elif name not in result.phases_done:
                result.phases_done.append(name)
        if isinstance(event, events.ScenarioFinished):
            _collect(result, event)
        elif isinstance(event, events.NonFatalError):
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
        elif isinstance(event, events.FatalError):
            result.tool_errors.append(
                ToolError("(run)", type(event.exception).__name__, str(event.exception).splitlines()[0])
            )
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value == "stateful":
            result.stateful_ran = result.stateful_ran or event.status not in (Status.SKIP, Status.ERROR)
            if event.phase.skip_reason is not None:
                result.stateful_skip = str(event.phase.skip_reason.value)
        elif isinstance(event, events.EngineFinished) and event.stop_reason is StopReason.MAX_TIME:
            result.stopped_by_budget = True


def _collect(result: ContractRun, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    # An operation the budget interrupted half-way is not counted as tested by that scenario.
    if (
        event.status not in (Status.SKIP, Status.INTERRUPTED)
        and event.phase.value != "stateful"
        and recorder.label
    ):
        result.tested.add(recorder.label)
    result.requests += len(recorder.interactions)
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            criterion = CHECK_CRITERIA.get(node.name)
            if criterion is None:
                continue
            if (
                node.name in NEGATIVE_CHECKS
                and node.failure_info is not None
                and _is_missing_credential(node.failure_info.failure, result)
            ):
                # A request without its credential that is served is an auth finding, not a data one.
                criterion = CHECK_CRITERIA["ignored_auth"]
            case = recorder.cases.get(case_id)
            operation = recorder.label
            if case is not None:
                operation = f"{case.value.method.upper()} {case.value.path}"
            if node.status is Status.FAILURE and node.failure_info is not None:
                info = node.failure_info
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction is not None else None
                request = interaction.request if interaction is not None else None
                result.add_finding(
                    Finding(
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
                )
            elif node.status is Status.SUCCESS:
                result.passed_checks.setdefault(criterion, set()).add(operation)


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


def _fresh_idempotency_keys(schema: Any) -> None:
    """A generated Idempotency-Key repeated with another body is a generator collision, not an API fault.

    schemathesis reuses the spec's example key across cases; a correct gateway then answers 422 (key reused
    with another request), which the positive-data check would blame on the gateway. A key is kept the first
    time it is seen in a run and replaced by a fresh one on every reuse. `before_call` can only be a global
    hook in schemathesis, so it is registered once and keeps one set of keys per schema it was enabled for.
    """
    global _HOOK_REGISTERED  # noqa: PLW0603 - schemathesis's hook registry is itself process-wide
    _SEEN_KEYS[id(schema)] = set()
    if _HOOK_REGISTERED:
        return
    _HOOK_REGISTERED = True

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        seen = _SEEN_KEYS.get(id(case.operation.schema))
        headers = case.headers
        if seen is None or not isinstance(headers, MutableMapping):
            return
        for name in list(headers):
            value = headers[name]
            if name.lower() in IDEMPOTENCY_HEADERS and isinstance(value, str):
                if value in seen and len(value) >= 8:
                    headers[name] = _fresh_key(len(value))
                seen.add(headers[name])
        _ = (context, kwargs)


def _fresh_key(length: int) -> str:
    """A new key as long as the one it replaces, so a length the spec forbids stays forbidden."""
    key = uuid.uuid4().hex
    while len(key) < length:
        key += uuid.uuid4().hex
    return key[:length]


_SEEN_KEYS: dict[int, set[str]] = {}  # by id() of the schema of a run in progress
_HOOK_REGISTERED = False
