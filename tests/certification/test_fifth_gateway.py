"""A correct gateway paycert does not ship certifies GO from data alone, and every fault in it is caught.

Kestrel Pay (tests/fifth_gateway/) was written without paycert's code and is unlike the built-in gateways on
every point paycert's vocabulary must cover: no refunded status (refunds are an amount), a cancel button in a
form of its own, the event id only in a header, refund webhooks naming the refund, no provider-state
endpoint, the webhook schema inside its OpenAPI document. Certified with tests/fifth_gateway/profile.yaml
and a target file only: GO with the HTTP shopper and with Chromium, CON-PACT included, and each seeded fault
turns exactly its criterion red among the suites that certify it.
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

from tests.fifth_gateway.app import KestrelServer
from tests.shared_once import shared_once

# The runs take minutes on two cores: the tests waiting for them are given longer than the default timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "tests" / "fifth_gateway" / "profile.yaml"
RETRY_SCHEDULE = (0.5, 1, 1.5, 2)  # what the profile states; Kestrel's own default is 1, 2, 4, 8 s
RUN_TIMEOUT_SECONDS = 600
ALL_SUITES = ("scenarios", "webhooks", "contract", "pacts")

# fault -> (the suites that certify what it breaks, the criterion that must go red). Faults certified by the
# same suites share one run: each faulty Kestrel is a gateway of its own in one target (its own column).
FAULTS: dict[str, tuple[str, str]] = {
    "wrong_secret_accepted": ("scenarios", "AUTH-CREDENTIALS"),
    "wrong_client_id_accepted": ("scenarios", "AUTH-CREDENTIALS"),
    "status_without_token": ("scenarios", "AUTH-CREDENTIALS"),
    "double_refund_accepted": ("scenarios", "OPS-REFUND"),
    "over_refund_accepted": ("scenarios", "OPS-REFUND"),
    "cancel_ends_failed": ("scenarios", "PAY-CANCEL"),
    "decline_ends_complete": ("scenarios", "PAY-DECLINED"),
    "three_ds_skipped": ("scenarios", "PAY-3DS"),
    "zero_amount_accepted": ("scenarios", "PAY-AMOUNT"),
    "unsigned_webhooks": ("webhooks", "WH-SIGNATURE"),
    "wrong_signature_secret": ("webhooks", "WH-SIGNATURE"),
    "no_retry": ("webhooks", "WH-RETRY"),
    "retries_stop_early": ("webhooks", "WH-RETRY"),
    "renamed_response_field": ("contract", "CON-SCHEMA"),
}
NOT_OFFERED = ("OPS-CAPTURE", "OPS-VOID", "OPS-RECURRING", "OPS-TOKEN", "OPS-PAYOUT")


@dataclass(frozen=True)
class Run:
    """One plan: the gateways of its target (gateway id -> Kestrel's fault flags), suites and options."""

    gateways: dict[str, tuple[str, ...]]
    suites: tuple[str, ...]
    options: tuple[str, ...] = ()


PLAN: dict[str, Run] = {
    "correct": Run({"kestrel": ()}, ALL_SUITES),
    "correct-browser": Run({"kestrel": ()}, ("scenarios", "webhooks", "pacts"), ("--browser",)),
    **{
        f"faults-{suite}": Run(
            {fault.replace("_", "-"): (fault,) for fault, (of, _) in FAULTS.items() if of == suite}, (suite,)
        )
        for suite in dict.fromkeys(suite for suite, _ in FAULTS.values())
    },
}


@dataclass(frozen=True)
class Certification:
    code: int
    stderr: str
    run_dir: Path

    @property
    def readiness(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.run_dir / "readiness.json").read_text(encoding="utf-8"))
        return document

    def statuses(self, gateway: str) -> dict[str, str]:
        return {
            c["id"]: c["gateways"][gateway]["status"]
            for c in self.readiness["criteria"]
            if gateway in c["gateways"]
        }

    def failing(self, gateway: str) -> set[str]:
        return {
            cid for cid, status in self.statuses(gateway).items() if status not in ("pass", "not_applicable")
        }

    def explain(self, gateway: str) -> str:
        reds = {
            c["id"]: c["gateways"][gateway].get("reason", "")
            for c in self.readiness["criteria"]
            if c["gateways"].get(gateway, {}).get("status") not in (None, "pass", "not_applicable")
        }
        return f"exit {self.code}; {gateway} not passed: {reds}; stderr: {self.stderr[-1200:]}"


@pytest.fixture(scope="module")
def certifications(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certification]:
    made = shared_once(tmp_path_factory, "fifth-gateway-runs", _certify_all)
    return {name: Certification(r["code"], r["stderr"], Path(r["run_dir"])) for name, r in made.items()}


def _certify_all(work_root: Path) -> dict[str, Any]:
    """Every run of the plan side by side, each against its own Kestrel servers."""
    servers: list[KestrelServer] = []
    runs: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        for name, plan in PLAN.items():
            work = work_root / name
            work.mkdir(exist_ok=True)
            env = {**os.environ}
            env.pop("PAYCERT_TARGET", None)
            gateways: dict[str, Any] = {}
            for gid, flags in plan.gateways.items():
                server = KestrelServer(retry_schedule=RETRY_SCHEDULE, **dict.fromkeys(flags, True)).start()
                servers.append(server)
                env.update({_env_name(gid, k): v for k, v in server.credentials.items()})
                gateways[gid] = {
                    "profile": str(PROFILE),
                    "base_url": server.base_url,
                    "environment": "sandbox",
                    "credentials": {k: _env_name(gid, k) for k in server.credentials},
                }
            target = work / "kestrel.yaml"
            content = {"name": "Kestrel Pay, a gateway paycert does not ship", "gateways": gateways}
            target.write_text(
                yaml.safe_dump({**content, "webhooks": {"bind": "127.0.0.1:0"}}, sort_keys=False)
            )
            command = [sys.executable, "-m", "paycert", "run", "--target", str(target)]
            command += [arg for suite in plan.suites for arg in ("-s", suite)] + list(plan.options)
            with (work / "stdout.txt").open("wb") as out, (work / "stderr.txt").open("wb") as err:
                process = subprocess.Popen(
                    [*command, "--report-dir", str(work / "reports")],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=err,
                )
            runs[name] = (process, work)
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        done: dict[str, Any] = {}
        for name, (process, work) in runs.items():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                pytest.fail(f"paycert run against Kestrel ({name}) took more than {RUN_TIMEOUT_SECONDS} s")
            stderr = (work / "stderr.txt").read_text(encoding="utf-8", errors="replace")
            found = sorted(
                p.parent for p in (work / "reports").glob("*/readiness.json") if p.parent.name != "latest"
            )
            assert len(found) == 1, f"{name}: expected one run, found {found}; stderr: {stderr[-1500:]}"
            done[name] = {"code": process.returncode, "stderr": stderr, "run_dir": str(found[0])}
        return done
    finally:
        for process, _ in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for server in servers:
            server.stop()


def _env_name(gateway: str, credential: str) -> str:
    return f"PAYCERT_{gateway.upper().replace('-', '_')}_{credential.upper()}"


@pytest.mark.parametrize("name", ["correct", "correct-browser"])
def test_a_correct_kestrel_is_certified_go_from_its_profile_and_target_alone(
    certifications: dict[str, Certification], name: str
) -> None:
    run = certifications[name]

    assert run.code == 0, run.explain("kestrel")
    assert run.readiness["verdict"] == "GO", run.explain("kestrel")
    statuses = run.statuses("kestrel")
    for absent in NOT_OFFERED:
        assert statuses.get(absent) == "not_applicable", absent
    offered = {cid for cid in statuses if cid not in NOT_OFFERED}
    assert {statuses[cid] for cid in offered} == {"pass"}, run.explain("kestrel")
    assert {"PAY-CANCEL", "OPS-REFUND", "WH-SIGNATURE", "WH-RETRY", "CON-PACT"} <= offered


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_seeded_fault_turns_exactly_its_criterion_red(
    certifications: dict[str, Certification], fault: str
) -> None:
    suite, expected = FAULTS[fault]
    run = certifications[f"faults-{suite}"]
    gateway = fault.replace("_", "-")

    assert run.code == 1, run.explain(gateway)
    assert run.readiness["verdict"] == "NO-GO", run.explain(gateway)
    assert run.failing(gateway) == {expected}, run.explain(gateway)
    assert run.statuses(gateway)[expected] == "fail", run.explain(gateway)
