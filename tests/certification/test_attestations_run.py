"""ATT-* criteria in a real `paycert run`: attested ones pass and show who and when in the report; a blocking
one missing or expired keeps the verdict NO-GO, "awaiting attestation"; `paycert attest` adds one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.certification.runs import REPO, paycert

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "fixtures" / "attestations.example.yaml"


def without(tmp_path: Path, criterion: str, *, expire: str | None = None) -> Path:
    """The example attestations, less one criterion's (or with it expired on `expire`)."""
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if expire:
        for entry in document["attestations"]:
            if entry["criterion"] == criterion:
                entry["expires"] = expire
    else:
        document["attestations"] = [a for a in document["attestations"] if a["criterion"] != criterion]
    path = tmp_path / "attestations.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_the_examples_attest_every_att_criterion_and_the_report_says_who_and_when(tmp_path: Path) -> None:
    run = paycert("run", "-s", "attestations", "--attestations", str(EXAMPLE), report_dir=tmp_path / "r")

    assert run.code == 0, run.last_stderr_line()
    attested = {c["id"] for c in run.readiness["criteria"] if c["evidenced_by"] == "attestation"}
    assert len(attested) == 11
    assert run.with_status("pass") == attested
    cell = next(c for c in run.readiness["criteria"] if c["id"] == "ATT-PCI-DSS")["gateways"]["attested"]
    record = cell["tests"][0]["evidence"][0]
    assert record["kind"] == "attestation"
    assert (record["by"], record["at"], record["expires"]) == (
        "Sandbox operator (paycert maintainers)",
        "2026-12-01",
        "2027-12-01",
    )
    html = (run.run_dir / "readiness.html").read_text(encoding="utf-8")
    assert 'id="attestations"' in html
    assert "Sandbox operator (paycert maintainers)" in html
    assert "2026-12-01" in html


@pytest.mark.parametrize("expire", [None, "2026-01-31"], ids=["missing", "expired"])
def test_a_blocking_attestation_missing_or_expired_is_no_go_awaiting_attestation(
    tmp_path: Path, expire: str | None
) -> None:
    attestations = without(tmp_path, "ATT-PCI-DSS", expire=expire)

    run = paycert("run", "-s", "attestations", "--attestations", str(attestations), report_dir=tmp_path / "r")

    assert run.code == 1
    assert run.readiness["verdict"] == "NO-GO"
    assert run.with_status("not_evaluated") == {"ATT-PCI-DSS"}
    assert "awaiting attestation: ATT-PCI-DSS" in run.readiness["verdict_reason"]
    cell = next(c for c in run.readiness["criteria"] if c["id"] == "ATT-PCI-DSS")["gateways"]["attested"]
    assert cell["reason"].startswith("awaiting attestation")
    if expire:
        assert f"expired on {expire}" in cell["reason"]


def test_a_non_blocking_attestation_missing_is_conditional(tmp_path: Path) -> None:
    attestations = without(tmp_path, "ATT-NETWORK")

    run = paycert("run", "-s", "attestations", "--attestations", str(attestations), report_dir=tmp_path / "r")

    assert run.readiness["verdict"] == "CONDITIONAL"
    assert "awaiting attestation: ATT-NETWORK" in run.readiness["verdict_reason"]


def test_paycert_attest_adds_the_missing_attestation_and_the_run_goes_go(tmp_path: Path) -> None:
    attestations = without(tmp_path, "ATT-PCI-DSS")
    attest = subprocess.run(
        [
            sys.executable,
            "-m",
            "paycert",
            "attest",
            "ATT-PCI-DSS",
            "--by",
            "Dana Example, CISO",
            "--evidence",
            "https://example.org/aoc-2026.pdf",
            "--expires",
            "2027-12-01",
            "--detail",
            "SAQ A",
            "--file",
            str(attestations),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert attest.returncode == 0, attest.stderr

    run = paycert("run", "-s", "attestations", "--attestations", str(attestations), report_dir=tmp_path / "r")

    assert run.code == 0, run.readiness["verdict_reason"]
    html = (run.run_dir / "readiness.html").read_text(encoding="utf-8")
    assert "Dana Example, CISO" in html


def test_a_bad_attestations_file_is_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("attestations:\n- {criterion: ATT-PCI-DSS, at: 2026-01-01}\n", encoding="utf-8")

    run = paycert("run", "-s", "attestations", "--attestations", str(bad), report_dir=tmp_path / "r")

    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert "attestations file" in run.last_stderr_line()
    assert "'by' is a required property" in run.last_stderr_line()
    assert run.readiness["verdict"] == "NO-GO"
