"""`paycert run --suite merchant` certifies the reference merchant, and each merchant fault of the sandbox
turns exactly its MER-* criterion red."""

from __future__ import annotations

import pytest

from tests.certification.runs import Run, paycert, shared_paycert

pytestmark = pytest.mark.slow

SUITE = ["--suite", "merchant"]
MER = {
    "MER-SIGNATURE",
    "MER-IDEMPOTENT",
    "MER-ORDER",
    "MER-AMOUNT",
    "MER-CONFIRM",
    "MER-RETURN-URL",
    "MER-POLLING",
    "MER-EXPIRY",
    "MER-ACK",
}
EXACTLY: dict[str, str] = {
    "merchant-no-verify": "MER-SIGNATURE",
    "merchant-double-fulfil": "MER-IDEMPOTENT",
    "merchant-trusts-return-url": "MER-RETURN-URL",
    "merchant-no-poll": "MER-POLLING",
    "merchant-regresses-state": "MER-ORDER",
    "merchant-ignores-amount": "MER-AMOUNT",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "merchant-clean-run", "run", *SUITE)


def test_the_reference_merchant_passes_every_merchant_criterion(clean: Run) -> None:
    assert clean.code == 0, clean.stderr[-2000:]
    assert clean.readiness["verdict"] == "GO"
    assert clean.with_status("pass") == MER
    for criterion in clean.readiness["criteria"]:
        for gateway, cell in criterion["gateways"].items():
            assert cell["status"] in ("pass", "not_applicable"), (criterion["id"], gateway, cell)
            if cell["status"] == "not_applicable":
                assert len(cell["reason"]) > 10, f"{criterion['id']} on {gateway} is n/a without a reason"


@pytest.mark.parametrize("fault", sorted(EXACTLY))
def test_each_merchant_fault_turns_exactly_its_criterion_red(
    fault: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = paycert("run", "--sandbox-fault", fault, *SUITE, report_dir=tmp_path_factory.mktemp("reports"))

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == {EXACTLY[fault]}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    assert run.readiness["verdict"] == "NO-GO"
    failed = next(c for c in run.readiness["criteria"] if c["id"] == EXACTLY[fault])
    reasons = [cell["reason"] for cell in failed["gateways"].values() if cell["status"] == "fail"]
    assert reasons
    assert all(reasons), f"{EXACTLY[fault]} failed without saying why"
