"""Bring-your-own specs nobody here wrote: Adyen's Checkout (28 operations) and Management (134 operations) APIs.

Each spec is served by a real third-party mock (Stoplight Prism, `prism mock`, on loopback) and certified by a
real `paycert run --suite contract` subprocess given nothing but the spec, the base URL and an API-key header.
The mock accepts invalid data and answers 405 without `Allow`, so the target's findings (`fail`, with curl
evidence) are expected; what must never happen is an error of paycert itself, a budget overrun, or a harness
error passed off as a finding (or the reverse).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.certification.runs import Run, paycert
from tests.contract.prism import ADYEN, prism_mock, require_prism

BUDGET_S = 45  # contract phase: each run, startup and report included, stays well under two minutes
EXAMPLES = 3
TOLERANCE_S = 5.0  # the engine may finish the request in flight when the budget runs out
HARNESS_LABEL = "harness error (not a finding against the target)"
CONTRACT_NOTE = re.compile(r"schemathesis over (\d+) operation\(s\).* (\d+) request\(s\) in ([\d.]+) s")
# Why a criterion may be left not evaluated here: none of these is the harness's own failure.
NOT_EVALUATED_REASONS = (
    f"contract budget of {BUDGET_S} s spent",
    "no request exercised this criterion's checks",
    "the stateful phase did not run",  # the budget ran out before it
)


@dataclass(frozen=True)
class Mock:
    base_url: str
    log: Path


@dataclass(frozen=True)
class Spec:
    gateway: str
    file: str
    operations: int


SPECS = [
    Spec("adyen-checkout", "CheckoutService-v71.json", 28),
    Spec("adyen-management", "ManagementService-v3.json", 134),
]

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _prerequisites() -> None:
    require_prism()


@pytest.fixture(params=SPECS, ids=[s.gateway for s in SPECS])
def spec(request: pytest.FixtureRequest) -> Spec:
    value: Spec = request.param
    return value


@pytest.fixture
def prism(spec: Spec, tmp_path: Path) -> Iterator[Mock]:
    """`prism mock SPEC` on a free loopback port (tests/contract/prism.py), killed at teardown."""
    log = tmp_path / "prism.log"
    with prism_mock(ADYEN / spec.file, log) as base_url:
        yield Mock(base_url, log)


def _target_file(tmp_path: Path, spec: Spec, mock: Mock) -> Path:
    target = {
        "name": spec.gateway,
        "gateways": {
            spec.gateway: {
                "spec": str(ADYEN / spec.file),
                "base_url": mock.base_url,
                "headers": {"X-API-Key": "ADYEN_TEST_KEY"},
            }
        },
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(target), encoding="utf-8")
    return path


def _tests(run: Run, gateway: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (criterion["id"], test)
        for criterion in run.readiness["criteria"]
        if criterion["id"].startswith("CON-") and gateway in criterion["gateways"]
        for test in criterion["gateways"][gateway]["tests"]
    ]


def test_adyen_spec_runs_its_contract_phase_against_prism_within_budget(
    spec: Spec, prism: Mock, tmp_path: Path
) -> None:
    target = _target_file(tmp_path, spec, prism)
    run = paycert(
        "run",
        "--target",
        str(target),
        "--suite",
        "contract",
        "--contract-budget",
        str(BUDGET_S),
        "--contract-examples",
        str(EXAMPLES),
        report_dir=tmp_path / "reports",
        env={"ADYEN_TEST_KEY": "adyen-dummy-key-not-a-secret"},
    )
    context = f"exit {run.code}; stderr: {run.stderr[-3000:]}; prism: {prism.log.read_text()[-1000:]}"

    # paycert itself raised nothing: a verdict (GO or NO-GO), never the harness-error exit code.
    assert run.code in (0, 1), context
    assert run.readiness["harness_errors"] == [], context
    assert run.readiness["run"]["harness_errors"] == [], context

    tests = _tests(run, spec.gateway)
    notes = [e for _, t in tests for e in t["evidence"] if e.get("kind") == "note"]
    header = next(CONTRACT_NOTE.search(str(n["text"])) for n in notes if n.get("label") == "contract run")
    assert header is not None, notes[:3]
    operations, requests, contract_s = int(header[1]), int(header[2]), float(header[3])
    assert operations == spec.operations, header[0]
    assert requests > 0, header[0]
    # The budget is a deadline paycert keeps (its own measure of the contract phase, in the report).
    assert contract_s <= BUDGET_S + TOLERANCE_S, header[0]

    # Nothing the harness failed at is reported, in any form.
    assert not [n for n in notes if n.get("label") == HARNESS_LABEL], context
    for criterion, test in tests:
        assert not str(test["reason"]).startswith("harness"), (criterion, test["reason"])
        if test["outcome"] == "not_evaluated":
            assert str(test["reason"]).startswith(NOT_EVALUATED_REASONS), (criterion, test["reason"])

    # The mock's real findings are the target's: `fail`, each with the request that reproduces it.
    failed = [(c, t) for c, t in tests if t["outcome"] == "fail"]
    assert failed, "Prism accepts invalid data and ignores nothing: some finding was expected"
    for criterion, test in failed:
        exchanges = [e for e in test["evidence"] if e.get("kind") == "exchange"]
        assert exchanges, f"{criterion} failed without evidence"
        for exchange in exchanges:
            assert str(exchange["label"]).startswith("finding: "), exchange["label"]
            assert str(exchange["curl"]).startswith("curl "), exchange
            assert "adyen-dummy-key" not in str(exchange), "the API key reached the report"
    statuses = {c["id"]: c["gateways"][spec.gateway]["status"] for c in run.readiness["criteria"]}
    assert {s for c, s in statuses.items() if c.startswith("CON-") and c != "CON-CALLBACKS"} <= {
        "pass",
        "fail",
        "not_evaluated",
        "not_applicable",
    }
    assert run.code == (1 if run.readiness["verdict"] != "GO" else 0)
