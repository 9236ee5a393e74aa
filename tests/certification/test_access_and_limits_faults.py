"""SEC-ACCESS, SEC-PAN-ECHO, SEC-RATE-LIMIT, SEC-IP-ALLOWLIST and OPS-CAPS: they pass on the reference sandbox,
and each of their faults turns exactly its criterion red (`paycert run -s security -c ...`, one gateway each)."""

from __future__ import annotations

import pytest

from tests.certification.runs import assert_no_leaks, paycert

pytestmark = pytest.mark.slow

CRITERIA = ["SEC-ACCESS", "SEC-PAN-ECHO", "SEC-RATE-LIMIT", "SEC-IP-ALLOWLIST", "OPS-CAPS"]
SELECTION = ["--suite", "security", *(arg for c in CRITERIA for arg in ("--criterion", c))]

# fault -> (the gateway that shows it, the criterion it must turn red and nothing else)
FAULTS: dict[str, tuple[str, str]] = {
    "no-rate-limit": ("paylican", "SEC-RATE-LIMIT"),
    "no-cap": ("gustaffo", "OPS-CAPS"),  # the only built-in gateway that declares a cap (amounts.max)
    "no-allowlist": ("paylican", "SEC-IP-ALLOWLIST"),
    "echo-pan": ("txservices", "SEC-PAN-ECHO"),  # the full number in txservices' payment answers
}


def test_the_reference_sandbox_passes_them(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = paycert("run", *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert run.code == 0, f"exit {run.code}: {run.last_stderr_line()}"
    statuses = run.statuses()
    assert {statuses[c] for c in CRITERIA if c != "OPS-CAPS"} == {"pass"}, statuses
    assert statuses["OPS-CAPS"] == "pass"  # gustaffo passes; txservices and paylican declare no cap (n/a)
    assert_no_leaks(run.run_dir)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_fault_turns_exactly_its_criterion_red(
    fault: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gateway, criterion = FAULTS[fault]
    run = paycert(
        "run",
        "--sandbox-fault",
        fault,
        "--gateway",
        gateway,
        *SELECTION,
        report_dir=tmp_path_factory.mktemp("reports"),
    )

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == {criterion}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    failed = next(c for c in run.readiness["criteria"] if c["id"] == criterion)
    assert failed["gateways"][gateway]["reason"], f"{criterion} failed without saying why"
    assert_no_leaks(run.run_dir)  # the echoed card number is in the report only as first 6 / last 4
