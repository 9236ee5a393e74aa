"""paycert's pytest plugin (entry point `pytest11: paycert`): `paycert run` drives it, and so can a team's suite.

Inert unless a target is given (`--paycert-target` or PAYCERT_TARGET): then it parametrizes the tests over
the target's gateways, records each test's evidence, turns outcomes into criterion results and writes the
readiness report at the end of the session.

From your own pytest suite (`pip install paycert` loads this plugin; README "Use paycert from your own pytest
suite"): `python -m pytest --paycert-target paycert-target.yaml`, and tests such as

    from paycert.core.states import PaymentState

    @pytest.mark.criterion("PAY-SUCCESS")
    def test_a_paid_order_is_completed(checkout):
        paid = checkout.pay("COMPLETED")  # the profile's card with that outcome, on the hosted page
        assert checkout.status(paid.payment) is PaymentState.COMPLETED

Fixtures (each test that uses one runs once per gateway of the target, as `gateway_id`):
    gateway_client (alias: gateway)  the gateway's client: every call redacted, recorded, checked against the spec
    checkout        create payments and play the shopper on the gateway's pages (skipped on live unless allowed)
    webhook_sink (alias: sink)       paycert's local webhook receiver; webhooks: what this gateway sent to it
    profile         the gateway's profile (cards, statuses, operations)
    merchant        the target's merchant integration, paycert playing the gateway at it
    attestations    the run's attestations desk (ATT-* criteria)
    gateway_time, kpi, load_phase, security, transport, criteria_results, paycert_run: what paycert's own
                    suites use (see each fixture's docstring)
Markers: `criterion(ID, ...)` the criteria a test evidences (ids of specs/readiness.yaml, checked at
collection); `records(ID, ...)` criteria a test records itself through `criteria_results`; `moves_money`.
Options: the `--paycert-*` group (`pytest --help`): --paycert-target (env PAYCERT_TARGET), --paycert-report-dir
(env PAYCERT_REPORT_DIR), --paycert-run-id, --paycert-gateway, --paycert-browser, --paycert-seed,
--paycert-attestations, --paycert-allow-live-writes, --paycert-max-duration ...

Scope: `paycert run` judges what was selected (with no selection, the whole catalogue). A suite run by pytest
directly selected the criteria of its collected tests: the report judges those, and lists every other
criterion as out of scope, so a team's ten-line suite is not NO-GO for criteria it never asked about.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Generator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from paycert import __version__
from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.core.results import Outcome, TestResult, combine
from paycert.plugin.attested import attestations
from paycert.plugin.deadline import install as install_deadline
from paycert.plugin.experience import experience, merchant_pages
from paycert.plugin.fixtures import (
    checkout,
    gateway,
    gateway_client,
    gateway_time,
    kpi,
    load_phase,
    load_phases,
    paycert_run,
    profile,
    sink,
    webhook_sink,
    webhooks,
)
from paycert.plugin.merchant import merchant
from paycert.plugin.options import add_options, register_markers
from paycert.plugin.outcomes import as_skip, classify
from paycert.plugin.security import pan_echo_results, security
from paycert.plugin.session import RUN_STATE, RunState, loaded_target
from paycert.plugin.shard import install as install_shard
from paycert.plugin.shard import shard_info
from paycert.plugin.subresults import CriteriaResults, criteria_results
from paycert.plugin.transport import transport
from paycert.report import GatewayInfo, RunInfo, Selection, build_readiness, utc_now_iso, write_report
from paycert.report.writer import write_results
from paycert.targets.attestations import load_attestations
from paycert.targets.home import specs_dir
from paycert.targets.target import load_target

__all__ = [
    "attestations",
    "checkout",
    "criteria_results",
    "experience",
    "gateway",
    "gateway_client",
    "gateway_time",
    "kpi",
    "load_phase",
    "load_phases",
    "merchant",
    "merchant_pages",
    "paycert_run",
    "profile",
    "security",
    "sink",
    "transport",
    "webhook_sink",
    "webhooks",
]

# What a test's evidence holds of the target itself: requests it answered, webhooks it sent. A load phase's
# summary (KPI-*) stands for every request of the phase the target answered: each is a check. A person's
# attestation is the check of the criteria no test can see (ATT-*, evidenced_by: attestation) and of no other.
TARGET_EVIDENCE = frozenset({"exchange", "webhook", "load"})

# The report's column for attested criteria: they are about the integration as a whole, not one gateway.
ATTESTED_SUBJECT = "attested"

_PHASES = pytest.StashKey[dict[str, tuple[Outcome, str, bool]]]()
_STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    target_file = config.getoption("--paycert-target")
    if not target_file:
        return
    try:
        target = loaded_target(config, Path(target_file)) or load_target(Path(target_file))
        only = [g for g in str(config.getoption("--paycert-gateway") or "").split(",") if g]
        if only:
            target = target.only(only)
        catalogue = Catalogue.from_path(specs_dir() / "readiness.yaml")
        attestations_file = config.getoption("--paycert-attestations")
        attestations = load_attestations(
            Path(attestations_file) if attestations_file else target.attestations
        )
    except PaycertError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[RUN_STATE] = RunState.create(
        target,
        catalogue,
        Path(config.getoption("--paycert-report-dir")),
        run_id=config.getoption("--paycert-run-id"),
        browser=bool(config.getoption("--paycert-browser")),
        seed=config.getoption("--paycert-seed"),
        selection=config.getoption("--paycert-selection") or "",
    )
    config.stash[RUN_STATE].allow_live_writes = bool(config.getoption("--paycert-allow-live-writes")) or (
        target.allow_live_writes
    )
    config.stash[RUN_STATE].attestations = attestations
    install_deadline(config, config.stash[RUN_STATE])
    state = config.stash[RUN_STATE]
    try:
        install_shard(config, state.reports_root, lambda: list(state.scope), _evidenced)
    except PaycertError as exc:
        raise pytest.UsageError(str(exc)) from None
    # SEC-PAN-ECHO: the seam looks for the profiles' test cards in every response, besides any Luhn-valid one.
    config.stash[RUN_STATE].recorder.pans.know(
        str(card.get("number", ""))
        for g in target.gateways.values()
        if g.profile is not None
        for card in (g.profile.raw.get("cards") or {}).values()
    )


def _state(config: pytest.Config) -> RunState | None:
    return config.stash.get(RUN_STATE, None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = _state(config)
    if state is None:
        return []
    gateways = ", ".join(f"{g.id} ({g.environment}) {g.base_url}" for g in state.target.gateways.values())
    return [
        f"paycert {__version__}: target {state.target.name}: {gateways}",
        f"paycert run {state.run_id}, seed {state.seed}",
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is not None:
        # A collect report does not carry its config: the run's own watcher hears them while collecting.
        session.config.pluginmanager.register(_CollectionErrors(state), _COLLECTION_ERRORS)
        state.preflight()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "attested_criterion" in metafunc.fixturenames:
        _parametrize_attested(metafunc)
    if "gateway_id" not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    ids = list(state.target.gateways) if state else []
    metafunc.parametrize("gateway_id", ids, ids=ids, scope="function")


def _parametrize_attested(metafunc: pytest.Metafunc) -> None:
    """One test per ATT-* criterion of the catalogue, each carrying its criterion marker (so -c selects it)."""
    state = _state(metafunc.config)
    attested = [c.id for c in state.catalogue if c.evidenced_by == "attestation"] if state else []
    metafunc.parametrize(
        "attested_criterion", [pytest.param(c, marks=pytest.mark.criterion(c), id=c) for c in attested]
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    known = {c.id for c in state.catalogue}
    for item in items:
        for criterion in _criteria(item):
            if criterion not in known:
                raise pytest.UsageError(
                    f"{item.nodeid}: criterion {criterion} is not in specs/readiness.yaml"
                )
    wanted = set(Selection.from_dict(json.loads(state.selection) if state.selection else {}).criteria)
    unknown = sorted(wanted - known)
    if unknown:
        raise pytest.UsageError(f"--criterion {', '.join(unknown)}: not in specs/readiness.yaml")
    if wanted:
        kept = [i for i in items if wanted & set(_evidenced(i))]
        dropped = [i for i in items if not wanted & set(_evidenced(i))]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
    state.scope = list(dict.fromkeys(c for i in items for c in _evidenced(i) if not wanted or c in wanted))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # `-k` deselects after the hook above: the scope is what is left to run.
    state = _state(session.config)
    if state is not None:
        kept = {c for i in session.items for c in _evidenced(i)}
        state.scope = [c for c in state.scope if c in kept]
        watcher = session.config.pluginmanager.get_plugin(_COLLECTION_ERRORS)
        if watcher is not None:
            session.config.pluginmanager.unregister(watcher)


_COLLECTION_ERRORS = "paycert-collection-errors"


class _CollectionErrors:
    """A suite module that cannot be collected is the harness's error: its criteria are not evaluated."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        text = str(report.longrepr).strip().splitlines()
        line = text[-1] if text else "collection failed"
        self.state.harness_error(f"{report.nodeid}: could not be collected: {line}")


def _criteria(item: pytest.Item, marker: str = "criterion") -> tuple[str, ...]:
    found: list[str] = []
    for mark in item.iter_markers(marker):
        found.extend(str(a) for a in mark.args)
    return tuple(dict.fromkeys(found))


def _evidenced(item: pytest.Item) -> tuple[str, ...]:
    """Every criterion a test can evidence: its own markers, and what it records through `criteria_results`."""
    return tuple(dict.fromkeys([*_criteria(item), *_criteria(item, "records")]))


@pytest.hookimpl(wrapper=True, tryfirst=True)  # first: the test's clock starts before its fixtures
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    state = _state(item.config)
    if state is not None:
        state.recorder.begin()
        item.user_properties.append(("criteria", _criteria(item)))
        item.stash[_PHASES] = {}
        item.stash[_STARTED] = time.monotonic()
    with as_skip():  # a fixture that finds the gateway does not offer what the test needs
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with as_skip():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = _state(item.config)
    if state is None or _PHASES not in item.stash:
        return report
    outcome, reason, harness = classify(call, call.when)
    crash = getattr(report.longrepr, "reprcrash", None)
    if outcome is Outcome.FAIL and crash is not None:
        # pytest's own rendering of the failure: it holds the assertion's message in every output mode.
        reason = str(crash.message).removeprefix("AssertionError: ").splitlines()[0]
    if outcome is Outcome.NOT_APPLICABLE:
        # Shown as a skip with its reason, like pytest.skip; recorded as not applicable, never as a pass.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"not applicable: {reason}")
    if call.excinfo is not None or call.when == "call":
        item.stash[_PHASES][call.when] = (outcome, reason, harness)
    if call.when == "teardown":
        _finish(state, item)
    return report


def _finish(state: RunState, item: pytest.Item) -> None:
    phases = item.stash[_PHASES]
    criteria = _criteria(item)
    # setup problems come first: a test whose setup failed was not evaluated, whatever "call" says.
    ordered = [phases[p] for p in ("setup", "call", "teardown") if p in phases]
    outcome = combine(o for o, _, _ in ordered) if ordered else Outcome.NOT_EVALUATED
    reason = next((r for o, r, _ in ordered if o is outcome and r), "")
    if not criteria and not _evidenced(item) and _own_suite(item.config):
        return  # a team's own test that is not about a criterion: not paycert's to judge
    if not criteria:
        # A test that records its own criteria (or none) and then crashed: its criteria stay in scope,
        # not evaluated where nothing was recorded, and the run says the harness broke.
        if outcome in (Outcome.FAIL, Outcome.NOT_EVALUATED) and not _skipped_on_purpose(ordered):
            state.harness_error(f"{item.nodeid}: {reason or 'the test did not finish'}")
        return
    if any(h for _, _, h in ordered):
        state.harness_error(f"{item.nodeid}: {reason}")
    callspec = getattr(item, "callspec", None)
    # A test's column: the gateway it ran against, or the one column of the attested criteria.
    params = callspec.params if callspec is not None else {}
    # A test of another subject names it with a `subject` parameter (the experience suite's "merchant").
    subject = params.get("subject", ATTESTED_SUBJECT if "attested_criterion" in params else "")
    gid = str(params.get("gateway_id", subject))
    evidence = state.recorder.log.to_list()
    if state.recorder.violations:
        evidence.append(
            {
                "kind": "note",
                "text": f"{len(state.recorder.violations)} response(s) did not match the spec",
                "label": "finding: schema",
            }
        )
    state.results.append(
        TestResult(
            nodeid=item.nodeid,
            criteria=criteria,
            gateway=gid,
            outcome=outcome,
            reason=state.redactor.text(reason),
            duration_s=time.monotonic() - item.stash[_STARTED],
            evidence=evidence,
            checks=sum(_checks_in(e, attested=_attested(state, criteria)) for e in evidence)
            + _recorded_checks(item),
        )
    )


ENGINES = ("paycert", "pytest", "schemathesis", "hypothesis", "pact-python", "httpx", "playwright")


def engine_versions() -> dict[str, str]:
    """The versions a report was made with, so a change of verdict can be told from a change of tools."""
    found = {"python": platform.python_version()}
    for name in ENGINES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _checks_in(evidence: dict[str, Any], *, attested: bool = False) -> int:
    """The checks one evidence item holds: one, or what a load phase's summary counts; an attestation only
    for a test whose criteria are all attested ones, so no tested criterion can pass on a signature."""
    kind = evidence.get("kind")
    if kind == "load":
        return int(evidence.get("answered") or 0)
    if kind == "attestation":
        return 1 if attested else 0
    return 1 if kind in TARGET_EVIDENCE else 0


def _attested(state: RunState, criteria: tuple[str, ...]) -> bool:
    return bool(criteria) and all(
        c in state.catalogue and state.catalogue.get(c).evidenced_by == "attestation" for c in criteria
    )


def _recorded_checks(item: pytest.Item) -> int:
    """Checks behind the per-criterion results the test recorded itself (a pact verifier's replays)."""
    recorded = getattr(item, "funcargs", {}).get("criteria_results")
    return sum(r.checks for r in recorded.recorded) if isinstance(recorded, CriteriaResults) else 0


def _skipped_on_purpose(phases: list[tuple[Outcome, str, bool]]) -> bool:
    """A not-evaluated skip the suite chose (an unreachable gateway, a live guard) is already reported."""
    return all(o is Outcome.NOT_EVALUATED and not harness for o, _, harness in phases)


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None:
        return
    if session.exitstatus == pytest.ExitCode.INTERRUPTED:
        # Ctrl-C or SIGTERM: what ran is kept, and the report says the rest was never run (never a GO).
        state.harness_error("the run was interrupted (Ctrl-C or SIGTERM) before every test had run")
    try:
        state.undo_live_writes()  # first: what it could not undo belongs in the report
        state.results.extend(pan_echo_results(state))  # card numbers any suite's responses carried
        _write(session, state)
    except (OSError, ValueError, PaycertError) as exc:
        # No traceback for the person running paycert: one line; the CLI then exits 2 (no report).
        print(f"paycert: the report could not be written: {exc}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    finally:
        state.close()


def _own_suite(config: pytest.Config) -> bool:
    """Whether pytest was run directly on a suite, not by `paycert run` (which always passes a selection)."""
    return not config.getoption("--paycert-selection")


def _write(session: pytest.Session, state: RunState) -> None:
    selection_raw = json.loads(state.selection) if state.selection else {}
    selection = Selection.from_dict(selection_raw)
    shard = shard_info(session.config)
    scoped = bool(selection.suites or selection.criteria or selection.keyword)
    if _own_suite(session.config):
        # Not `paycert run`: a team's own suite selected exactly the criteria of its collected tests.
        only = tuple(g for g in str(session.config.getoption("--paycert-gateway") or "").split(",") if g)
        selection = Selection(criteria=tuple(state.scope), gateways=only)
        scoped = True
    in_scope: tuple[str, ...] | None = None
    if scoped:
        in_scope = tuple(dict.fromkeys([*selection.criteria, *state.scope]))
    if shard is not None:
        # A shard owes a status only to what its own tests evidence; `paycert merge` restores the whole scope.
        in_scope = tuple(state.scope)
        if shard.claimed is not None:  # a worker of `-n` evidences what it claimed, not all it collected
            ran = {c for item in session.items for c in _evidenced(item)}
            in_scope = tuple(c for c in state.scope if c in ran)
    if session.testscollected == 0 and not state.harness_errors and not state.unreachable:
        state.harness_error("no certification test was collected: nothing was evaluated")
    run = RunInfo(
        run_id=state.run_id,
        started_at=state.started_at,
        finished_at=utc_now_iso(),
        target=state.target.name,
        gateways=tuple(
            GatewayInfo(
                id=g.id,
                title=g.title,
                base_url=g.base_url,
                environment="live" if g.is_live else "sandbox",
                source=str(g.profile.raw.get("source", "")) if g.profile else "",
                notes=tuple(str(n) for n in (g.profile.raw.get("notes") or ())) if g.profile else (),
            )
            for g in state.target.gateways.values()
        ),
        seed=state.seed,
        paycert_version=__version__,
        selection=selection,
        harness_errors=tuple(state.harness_errors),
        in_scope=in_scope,
        command=state.redactor.text(str(session.config.getoption("--paycert-command") or "")),
        target_file=str(session.config.getoption("--paycert-target-file") or ""),
        faults=tuple(f for f in str(session.config.getoption("--paycert-faults") or "").split(",") if f),
        versions=engine_versions(),
        shard=shard,
    )
    readiness = build_readiness(state.catalogue, state.results, run)
    secrets = [*state.target.secrets, *state.redactor.secrets]
    # The raw results go in first, so a `latest` that is a copy (no symlinks) has them too.
    write_results(state.run_dir, state.results, secrets)
    write_report(
        readiness,
        state.reports_root,
        state.run_id,
        secrets=secrets,
        data_only=bool(session.config.getoption("--paycert-data-only")),
    )
