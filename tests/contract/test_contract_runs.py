"""`paycert run --suite contract` against the embedded sandbox: green when correct, red where a fault is.

Each run is a real subprocess (the way CI runs paycert) against a real sandbox on loopback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.certification.runs import paycert

pytestmark = pytest.mark.slow  # each test is a whole `paycert run`

CONTRACT = {
    "CON-SERVER-ERRORS",
    "CON-STATUS",
    "CON-CONTENT-TYPE",
    "CON-HEADERS",
    "CON-SCHEMA",
    "CON-NEGATIVE",
    "CON-POSITIVE",
    "CON-AUTH",
    "CON-STATEFUL",
}


def test_correct_sandbox_passes_every_contract_criterion(tmp_path: Path) -> None:
    run = paycert("run", "--suite", "contract", report_dir=tmp_path)
    statuses = {cid: s for cid, s in run.statuses().items() if cid.startswith("CON-")}
    assert {c for c, s in statuses.items() if s == "pass"} >= CONTRACT, (statuses, run.stderr[-2000:])
    assert run.readiness["verdict"] == "GO", run.stderr[-2000:]
    assert run.code == 0
    assert run.readiness["run"]["seed"] == 0


@pytest.mark.parametrize(
    ("fault", "criterion"),
    [("schema-drift", "CON-SCHEMA"), ("accept-bad-amount", "CON-NEGATIVE"), ("no-auth", "CON-AUTH")],
)
def test_fault_turns_exactly_its_contract_criterion_red(tmp_path: Path, fault: str, criterion: str) -> None:
    run = paycert("run", "--suite", "contract", "--sandbox-fault", fault, report_dir=tmp_path)
    failed = {c for c in run.with_status("fail") if c.startswith("CON-")}
    assert failed == {criterion}, run.statuses()
    assert run.readiness["verdict"] == "NO-GO"
    assert run.code == 1
    row = next(c for c in run.readiness["criteria"] if c["id"] == criterion)
    curls = [
        e["curl"]
        for gateway in row["gateways"].values()
        if gateway["status"] == "fail"
        for test in gateway["tests"]
        for e in test["evidence"]
        if e.get("kind") == "exchange" and str(e.get("curl", "")).startswith("curl ")
    ]
    assert curls, f"{criterion} failed without a curl line to reproduce it"
    assert all("Bearer " not in c for c in curls), "a token reached the report"
