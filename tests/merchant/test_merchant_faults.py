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
    "MER-UNKNOWN-PAYMENT",
    "MER-CONFIRM",
    "MER-RETURN-URL",
    "MER-POLLING",
    "MER-EXPIRY",
    "MER-EXPIRY-READBACK",
    "MER-ACK",
    "MER-PUSH",
}
# No sandbox gateway signs a timestamp, so a replay cannot be told from a retry on any of them.
NOT_APPLICABLE = {"MER-REPLAY"}
# fault -> (the criterion it must turn red, the one gateway whose column shows it: a run of one column is a
# third of the time, and every MER criterion but MER-CONFIRM applies to gustaffo)
EXACTLY: dict[str, tuple[str, str]] = {
    "merchant-no-verify": ("MER-SIGNATURE", "gustaffo"),
    "merchant-double-fulfil": ("MER-IDEMPOTENT", "gustaffo"),
    "merchant-trusts-return-url": ("MER-RETURN-URL", "gustaffo"),
    "merchant-no-poll": ("MER-POLLING", "gustaffo"),
    "merchant-regresses-state": ("MER-ORDER", "gustaffo"),
    "merchant-ignores-amount": ("MER-AMOUNT", "gustaffo"),
    "merchant-no-expiry": ("MER-EXPIRY", "gustaffo"),
    "merchant-slow-ack": ("MER-ACK", "gustaffo"),
    "merchant-no-confirm": ("MER-CONFIRM", "paylican"),
    "merchant-adopts-unknown-payment": ("MER-UNKNOWN-PAYMENT", "gustaffo"),
    "merchant-expiry-no-readback": ("MER-EXPIRY-READBACK", "gustaffo"),
    "merchant-no-push": ("MER-PUSH", "gustaffo"),
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "merchant-clean-run", "run", *SUITE)


def test_the_reference_merchant_passes_every_merchant_criterion(clean: Run) -> None:
    assert clean.code == 0, clean.stderr[-2000:]
    assert clean.readiness["verdict"] == "GO"
    assert clean.with_status("pass") == MER
    assert clean.with_status("not_applicable") == NOT_APPLICABLE
    for criterion in clean.readiness["criteria"]:
        for gateway, cell in criterion["gateways"].items():
            assert cell["status"] in ("pass", "not_applicable"), (criterion["id"], gateway, cell)
            if cell["status"] == "not_applicable":
                assert len(cell["reason"]) > 10, f"{criterion['id']} on {gateway} is n/a without a reason"


@pytest.mark.parametrize("fault", sorted(EXACTLY))
def test_each_merchant_fault_turns_exactly_its_criterion_red(
    fault: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    criterion, gateway = EXACTLY[fault]
    run = paycert(
        "run", "--sandbox-fault", fault, *SUITE, "-g", gateway, report_dir=tmp_path_factory.mktemp("reports")
    )

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == {criterion}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    assert run.readiness["verdict"] == "NO-GO"
    failed = next(c for c in run.readiness["criteria"] if c["id"] == criterion)
    reasons = [cell["reason"] for cell in failed["gateways"].values() if cell["status"] == "fail"]
    assert reasons
    assert all(reasons), f"{criterion} failed without saying why"
