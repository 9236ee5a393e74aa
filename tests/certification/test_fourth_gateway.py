"""A gateway is data: Quetzal Pay, which paycert does not ship, is certified from its profile and spec alone.

`paycert run --target FILE` certifies a correct Quetzal GO, and turns exactly the right criterion red when
Quetzal signs its webhooks with the wrong secret (WH-SIGNATURE) or settles the decline card (PAY-DECLINED);
`paycert run -n 2`, its two workers sharing one Quetzal, judges every criterion as the serial run does.
The four runs are real subprocesses against real Quetzal servers on loopback, started at once to save time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fourth_gateway.app import API_SECRET, WEBHOOK_SECRET, WRONG_WEBHOOK_SECRET, QuetzalServer
from tests.shared_once import shared_once

# The module's four runs are made once per test session, whichever worker gets there first.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "tests" / "fourth_gateway" / "profile.yaml"
RUN_TIMEOUT_SECONDS = 300
# Credential name (as the profile lists them) -> the environment variable the target names for it.
ENV_NAMES = {
    "merchant_id": "PAYCERT_QUETZAL_MERCHANT_ID",
    "api_secret": "PAYCERT_QUETZAL_API_SECRET",
    "webhook_secret": "PAYCERT_QUETZAL_WEBHOOK_SECRET",
}
FAULTS: dict[str, dict[str, bool]] = {
    "correct": {},
    "signs_wrongly": {"signs_wrongly": True},
    "decline_is_success": {"decline_is_success": True},
    "correct_in_two_workers": {},
}
# What a run passes besides the target and suites: one run is `-n 2`, two workers sharing one Quetzal.
EXTRA_ARGS: dict[str, list[str]] = {"correct_in_two_workers": ["-n", "2"]}


@dataclass(frozen=True)
class Certification:
    """One finished `paycert run` against one Quetzal server."""

    code: int
    stderr: str
    run_dir: Path

    @property
    def readiness(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.run_dir / "readiness.json").read_text(encoding="utf-8"))
        return document

    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.readiness["criteria"]}

    def failing(self) -> set[str]:
        return {
            cid for cid, status in self.statuses().items() if status != "pass" and status != "not_applicable"
        }

    def cell(self, criterion: str) -> dict[str, Any]:
        found = next(c for c in self.readiness["criteria"] if c["id"] == criterion)
        cell: dict[str, Any] = found["gateways"]["quetzal"]
        return cell

    def explain(self) -> str:
        """What to show when an assertion fails: the exit code, the end of stderr and every non-pass."""
        reds = {cid: self.cell(cid).get("reason", "") for cid in sorted(self.failing())}
        return f"exit {self.code}; not passed: {reds}; stderr: {self.stderr[-1500:]}"


def _write_target(directory: Path, server: QuetzalServer) -> Path:
    target = {
        "name": "Quetzal Pay, a gateway paycert does not ship",
        "gateways": {
            "quetzal": {
                "profile": str(PROFILE),
                "base_url": server.base_url,
                "environment": "sandbox",
                "credentials": ENV_NAMES,
            }
        },
        "webhooks": {"bind": "127.0.0.1:0"},
    }
    path = directory / "quetzal.yaml"
    path.write_text(yaml.safe_dump(target, sort_keys=False), encoding="utf-8")
    return path


def _run_dir(report_dir: Path, stderr: str) -> Path:
    """The folder of the one run written under `report_dir` (`latest` may be a link or a copy of it)."""
    found = sorted(p.parent for p in report_dir.glob("*/readiness.json") if p.parent.name != "latest")
    assert len(found) == 1, f"expected one run under {report_dir}, found {found}; stderr: {stderr[-1500:]}"
    return found[0]


SUITES = ["--suite", "scenarios", "--suite", "webhooks"]


@pytest.fixture(scope="module")
def certifications(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certification]:
    """Certify a correct and two faulty Quetzal servers, and a correct one with `-n 2`, once per test session
    (tests/shared_once.py)."""
    made = shared_once(tmp_path_factory, "fourth-gateway-runs", _certify_all)
    return {name: Certification(r["code"], r["stderr"], Path(r["run_dir"])) for name, r in made.items()}


def _certify_all(work_root: Path) -> dict[str, Any]:
    """The runs side by side, each against its own Quetzal server; their outcomes as plain data."""
    servers: dict[str, QuetzalServer] = {}
    runs: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
    try:
        for name, faults in FAULTS.items():
            server = servers[name] = QuetzalServer(**faults).start()
            work = work_root / f"quetzal-{name}"
            work.mkdir(exist_ok=True)
            env = {**os.environ, **{ENV_NAMES[k]: v for k, v in server.credentials.items()}}
            env.pop("PAYCERT_TARGET", None)
            target = _write_target(work, server)
            # The scenario and webhook suites: the promise under test is "a profile and a target are enough".
            # (Quetzal's spec is a test fixture; fuzzing it with the contract suites certifies the fixture.)
            command = [sys.executable, "-m", "paycert", "run", "--target", str(target), *SUITES]
            command += EXTRA_ARGS.get(name, [])
            # Output goes to files, not pipes: runs read one after the other must never block on a full pipe.
            with (work / "stdout.txt").open("wb") as out, (work / "stderr.txt").open("wb") as err:
                process = subprocess.Popen(
                    [*command, "--report-dir", str(work / "reports")],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=err,
                )
            runs[name] = (process, work / "reports", work / "stderr.txt")
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        results: dict[str, Any] = {}
        for name, (process, report_dir, stderr_file) in runs.items():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                pytest.fail(f"paycert run against Quetzal ({name}) took more than {RUN_TIMEOUT_SECONDS} s")
            stderr = stderr_file.read_text(encoding="utf-8", errors="replace")
            results[name] = {
                "code": process.returncode,
                "stderr": stderr,
                "run_dir": str(_run_dir(report_dir, stderr)),
            }
        return results
    finally:
        for process, _, _ in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for server in servers.values():
            server.stop()


def test_a_correct_quetzal_is_certified_go_from_its_profile_alone(
    certifications: dict[str, Certification],
) -> None:
    run = certifications["correct"]

    assert run.code == 0, run.explain()
    assert run.readiness["verdict"] == "GO", run.explain()
    assert run.failing() == set(), run.explain()
    assert [g["id"] for g in run.readiness["run"]["gateways"]] == ["quetzal"]
    assert run.cell("PAY-3DS")["status"] == "not_applicable"
    assert "3-D Secure" in run.cell("PAY-3DS")["reason"]


def test_what_quetzal_offers_is_evaluated_and_passes(certifications: dict[str, Certification]) -> None:
    statuses = certifications["correct"].statuses()

    # Not applicable only where Quetzal really has nothing to certify: the rest must have been exercised.
    offered = {
        "AUTH-CREDENTIALS",
        "PAY-SUCCESS",
        "PAY-DECLINED",
        "PAY-CANCEL",
        "PAY-AMOUNT",
        "OPS-REFUND",
        "WH-SIGNATURE",
        "WH-SCHEMA",
        "WH-RETRY",
        "WH-DUPLICATES",
        "WH-LATENCY",
    }
    assert {cid: statuses.get(cid) for cid in offered} == dict.fromkeys(offered, "pass")
    for absent in ("OPS-CAPTURE", "OPS-VOID", "OPS-RECURRING", "OPS-TOKEN", "OPS-PAYOUT"):
        assert statuses.get(absent) == "not_applicable", absent


def test_two_workers_sharing_quetzal_give_the_serial_run_s_verdict_and_criteria(
    certifications: dict[str, Certification],
) -> None:
    serial, parallel = certifications["correct"], certifications["correct_in_two_workers"]

    assert parallel.code == serial.code == 0, parallel.explain()
    assert parallel.readiness["verdict"] == "GO", parallel.explain()
    assert len(parallel.readiness["run"]["merged_from"]) == 2
    cells = {c["id"]: c["gateways"]["quetzal"]["status"] for c in serial.readiness["criteria"]}
    assert {c["id"]: c["gateways"]["quetzal"]["status"] for c in parallel.readiness["criteria"]} == cells


def test_webhooks_signed_with_another_secret_fail_only_the_signature_criterion(
    certifications: dict[str, Certification],
) -> None:
    run = certifications["signs_wrongly"]

    assert run.code == 1, run.explain()
    assert run.readiness["verdict"] == "NO-GO", run.explain()
    assert run.failing() == {"WH-SIGNATURE"}, run.explain()
    assert run.statuses()["WH-SIGNATURE"] == "fail"
    assert "signature" in run.cell("WH-SIGNATURE")["reason"].lower()


def test_a_decline_card_that_settles_fails_the_declined_criterion(
    certifications: dict[str, Certification],
) -> None:
    run = certifications["decline_is_success"]

    assert run.code == 1, run.explain()
    assert run.readiness["verdict"] == "NO-GO", run.explain()
    assert run.failing() == {"PAY-DECLINED"}, run.explain()
    assert run.statuses()["PAY-DECLINED"] == "fail"


def test_no_quetzal_secret_or_card_number_reaches_any_artifact(
    certifications: dict[str, Certification],
) -> None:
    forbidden = [API_SECRET, WEBHOOK_SECRET, WRONG_WEBHOOK_SECRET, "qzs_"]  # qzs_: every session token
    forbidden += sorted(
        {str(card["number"]) for card in yaml.safe_load(PROFILE.read_text())["cards"].values()}
    )
    for name, run in certifications.items():
        artifacts = [p for p in run.run_dir.rglob("*") if p.is_file()]
        assert any(p.name == "readiness.html" for p in artifacts), f"{name}: no HTML report"
        for artifact in artifacts:
            text = artifact.read_text(encoding="utf-8", errors="replace")
            leaked = [f"{value[:4]}..." for value in forbidden if value in text]
            assert not leaked, f"{name}: {artifact.name} holds {leaked}"
