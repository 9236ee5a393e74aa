"""paycert certifies a merchant it did not write: GO with each correct design of issue 12, and each of the
seven attacks seeded turns exactly its criterion red. Real `paycert run --suite merchant` subprocesses, each
against its own sandbox and its own second merchant, several at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.sandbox.gateways import GATEWAYS
from tests.second_merchant.app import Attacks, Design, SecondMerchant
from tests.shared_once import shared_once

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 900
AT_ONCE = 3  # paycert runs side by side on two cores
BOTH = ("gustaffo", "txservices")
DESIGNS = ("readback", "own_receiver", "poll_60s", "queue")
# attack -> (the gateway it works through, the criterion that must turn red)
ATTACKS: dict[str, tuple[str, str]] = {
    "empty_signature": ("gustaffo", "MER-SIGNATURE"),
    "webhook_query": ("gustaffo", "MER-SIGNATURE"),
    "unsigned_status": ("txservices", "MER-SIGNATURE"),
    "whole_units": ("gustaffo", "MER-AMOUNT"),
    "unknown_payment": ("gustaffo", "MER-UNKNOWN-PAYMENT"),
    "expiry_without_readback": ("gustaffo", "MER-EXPIRY-READBACK"),
    "return_payment_id": ("gustaffo", "MER-RETURN-URL"),
}
PLAN: dict[str, tuple[tuple[str, ...], Design, Attacks]] = {
    **{f"design-{d}": (BOTH, Design(**{d: True}), Attacks()) for d in DESIGNS},
    **{f"attack-{a}": ((g,), Design(), Attacks.named(a)) for a, (g, _) in ATTACKS.items()},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return shared_once(tmp_path_factory, "second-merchant-runs", _certify_all)


def _certify_all(root: Path) -> dict[str, Any]:
    started: list[Any] = []
    pending = list(PLAN)
    running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    done: dict[str, Any] = {}
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS * 2
    try:
        while pending or running:
            while pending and len(running) < AT_ONCE:
                name = pending.pop(0)
                running[name] = _start(name, root / name, started)
            for name, (process, work) in list(running.items()):
                if process.poll() is None:
                    continue
                del running[name]
                reports = sorted(
                    p.parent for p in (work / "reports").glob("*/readiness.json") if p.parent.name != "latest"
                )
                stderr = (work / "stderr.txt").read_text(errors="replace")
                assert len(reports) == 1, f"{name}: no report; stderr: {stderr[-1500:]}"
                done[name] = {
                    "code": process.returncode,
                    "stderr": stderr[-3000:],
                    "readiness": json.loads((reports[0] / "readiness.json").read_text()),
                }
            assert time.monotonic() < deadline, f"second-merchant runs still going: {sorted(running)}"
            time.sleep(0.5)
        return done
    finally:
        for process, _ in running.values():
            process.kill()
        for thing in reversed(started):
            thing.stop()


def _start(name: str, work: Path, started: list[Any]) -> tuple[subprocess.Popen[bytes], Path]:
    gateways, design, attacks = PLAN[name]
    work.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxServer(SandboxConfig(work / "sandbox")).start()
    started.append(sandbox)
    shop = SecondMerchant(sandbox.base_url, work, design, attacks).start()
    started.append(shop)
    env = {k: v for k, v in os.environ.items() if k != "PAYCERT_TARGET"}
    target_gateways: dict[str, Any] = {}
    for module in GATEWAYS:
        gid = module.PREFIX.strip("/")
        if gid not in gateways:
            continue
        variables = {k: f"SECOND_{gid.upper()}_{k.upper()}" for k in module.CREDENTIALS}
        env.update({variables[k]: v for k, v in module.CREDENTIALS.items()})
        target_gateways[gid] = {
            "base_url": f"{sandbox.base_url}{module.PREFIX}",
            "environment": "sandbox",
            "control_url": f"{sandbox.base_url}/_sandbox",
            "credentials": variables,
        }
    env["SECOND_GUSTAFFO_WEBHOOK_SECRET"] = shop.shop.gustaffo_secret
    merchant_gateways: dict[str, Any] = {
        "gustaffo": {
            "webhook_secret": "SECOND_GUSTAFFO_WEBHOOK_SECRET",
            "registers_receiver": design.own_receiver,
        },
        "txservices": {"webhook_secret": "SECOND_TXSERVICES_SECURE_KEY"},
    }
    target = {
        "name": f"second merchant ({name})",
        "gateways": target_gateways,
        "merchant": {
            "base_url": shop.base_url,
            "control_url": f"{sandbox.base_url}/_sandbox",
            "push_url": shop.base_url.replace("http", "ws", 1) + "/ws/orders/{orderId}",
            "gateways": {g: merchant_gateways[g] for g in gateways},
            # A merchant that works from a queue says how long it takes, as a target may: a loaded CI worker
            # needs more real seconds than the 1 s default to see its queue run.
            **({"settle_real_seconds": 3} if design.queue else {}),
        },
    }
    (work / "target.yaml").write_text(yaml.safe_dump(target, sort_keys=False))
    command = [
        sys.executable,
        "-m",
        "paycert",
        "run",
        "--target",
        str(work / "target.yaml"),
        "--suite",
        "merchant",
        "--report-dir",
        str(work / "reports"),
    ]
    with (work / "stdout.txt").open("wb") as out, (work / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
    return process, work


def _cells(readiness: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["id"], g): cell for c in readiness["criteria"] for g, cell in c["gateways"].items()}


def _not_passed(readiness: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        key: f"{cell['status']}: {cell.get('reason', '')}"
        for key, cell in _cells(readiness).items()
        if cell["status"] not in ("pass", "not_applicable")
    }


@pytest.mark.parametrize("design", DESIGNS)
def test_a_correct_second_merchant_is_certified_go_with_each_design(
    runs: dict[str, dict[str, Any]], design: str
) -> None:
    run = runs[f"design-{design}"]
    assert _not_passed(run["readiness"]) == {}, run["stderr"][-1500:]
    assert run["readiness"]["verdict"] == "GO"
    assert run["code"] == 0
    statuses = {c["id"]: c["status"] for c in run["readiness"]["criteria"]}
    assert statuses["MER-PUSH"] == "pass"
    assert statuses["MER-SIGNATURE"] == "pass"


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_each_seeded_attack_turns_exactly_its_criterion_red(
    runs: dict[str, dict[str, Any]], attack: str
) -> None:
    gateway, criterion = ATTACKS[attack]
    run = runs[f"attack-{attack}"]
    red = _not_passed(run["readiness"])
    assert set(red) == {(criterion, gateway)}, red
    assert red[(criterion, gateway)].startswith("fail: "), red
    assert run["readiness"]["verdict"] == "NO-GO"
