"""The comparisons of issue 15: what each runs as A (paycert) and B (its baseline), and the issue's target.

A paired comparison alternates A and B (A, B, A, B, ...) so that drifting load on a shared machine falls on
both; its ratio is median(A) / median(B). Every command is a child process with a timeout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from measure import Sample, run_timed
from shared_sandbox import SharedSandbox

Metric = Literal["wall", "cpu"]
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SPEC = REPO / "specs" / "gustaffo" / "openapi.yaml"
OUTBOX_QUIET_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Target:
    """The issue's goal for a figure: paycert's (A's) median `metric`, or the A/B ratio of it (`of="ratio"`),
    at most (or under) `limit`."""

    text: str
    metric: str  # "wall", "cpu" (seconds) or a figure a custom comparison reports ("webhooks_lost")
    limit: float
    strict: bool = False  # "< limit" rather than "<= limit"
    of: str = "value"  # "value": A's median; "ratio": A's median over B's

    def met_by(self, value: float) -> bool:
        return value < self.limit if self.strict else value <= self.limit


@dataclass
class Context:
    """What the comparisons share: a working folder, the environment, the one sandbox (started on demand)."""

    work: Path
    env: dict[str, str]
    log: Path
    sandbox: SharedSandbox | None = None
    reports: Path = field(init=False)

    def __post_init__(self) -> None:
        self.reports = self.work / "reports"

    def shared_sandbox(self) -> SharedSandbox:
        if self.sandbox is None:
            self.sandbox = SharedSandbox(self.work, self.env)
            self.env.update(self.sandbox.env)
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


@dataclass(frozen=True)
class Side:
    label: str
    argv: list[str]


Sides = tuple[Side, Side | None]


@dataclass(frozen=True)
class Comparison:
    name: str
    what: str
    rounds: int  # default rounds
    timeout_s: float  # per command
    metric: Metric  # the figure the ratio and the target speak of first
    sides: Callable[[Context], Sides]
    target: Target | None = None
    uses_sandbox: bool = False
    warm_up: bool = False  # one unmeasured run of each side first (caches, .pyc files)
    available: Callable[[], str | None] = lambda: None  # why it cannot run, or None
    custom: Callable[[Context, int], dict[str, Any]] | None = None  # runs itself (the sandbox benchmark)

    def run(self, context: Context, rounds: int | None = None) -> dict[str, Any]:
        rounds = rounds or self.rounds
        result: dict[str, Any] = {"name": self.name, "what": self.what, "metric": self.metric}
        result["target"] = asdict(self.target) if self.target else None
        why_not = self.available()
        if why_not:
            return {**result, "status": "not available", "reason": why_not, "target_met": None}
        if self.custom is not None:
            return {**result, **self.custom(context, rounds)}
        a, b = self.sides(context)
        result["commands"] = {"A": _shown(a.argv), "B": _shown(b.argv) if b else None}
        result["labels"] = {"A": a.label, "B": b.label if b else None}
        sides = [a] if b is None else [a, b]
        if self.warm_up:
            for side in sides:
                self._sample(context, side)
        samples: dict[str, list[Sample]] = {"A": [], "B": []}
        for _ in range(rounds):
            for key, side in zip("AB", sides, strict=False):
                samples[key].append(self._sample(context, side))
        result["rounds"] = rounds
        result["samples"] = {k: [asdict(s) for s in v] for k, v in samples.items() if v}
        result["medians"] = {k: _medians(v) for k, v in samples.items() if v}
        if b is not None:
            result["ratios"] = {
                m: result["medians"]["A"][m] / result["medians"]["B"][m]
                for m in ("wall_s", "cpu_s")
                if result["medians"]["B"][m] > 0
            }
        # 0/1 is a verdict (GO / not GO; schemathesis: failures found); 2 and up, or killed, is no measurement.
        failed = sorted({s.exit_code for v in samples.values() for s in v if not 0 <= s.exit_code <= 1})
        result["status"] = f"failed (exit codes {failed}; -1: timed out)" if failed else "ok"
        value = result["medians"]["A"][f"{self.metric}_s"]
        if self.target is not None and self.target.of == "ratio":
            value = result.get("ratios", {}).get(f"{self.target.metric}_s", float("inf"))
        result["target_met"] = self.target.met_by(value) if self.target and not failed else None
        return result

    def _sample(self, context: Context, side: Side) -> Sample:
        sandbox = context.shared_sandbox() if self.uses_sandbox else None
        if sandbox is not None:
            _quiet(sandbox)
        before = sandbox.requests_logged() if sandbox else 0
        wall, cpu, code = run_timed(
            side.argv, timeout_s=self.timeout_s, cwd=context.work, env=context.env, log=context.log
        )
        calls = sandbox.requests_logged() - before if sandbox else None
        sample = Sample(wall, cpu, code, calls)
        print(f"  {self.name} {side.label}: wall {wall:7.2f} s  cpu {cpu:6.2f} s  exit {code}", flush=True)
        return sample


def _shown(argv: list[str]) -> str:
    """The command line as results.json records it: quoted, a bearer token as a placeholder."""
    return shlex.join(re.sub(r"^Authorization: Bearer \S+$", "Authorization: Bearer $TOKEN", a) for a in argv)


def _medians(samples: list[Sample]) -> dict[str, Any]:
    calls = [s.calls for s in samples if s.calls is not None]
    return {
        "wall_s": statistics.median(s.wall_s for s in samples),
        "cpu_s": statistics.median(s.cpu_s for s in samples),
        "calls": statistics.median(calls) if calls else None,
    }


def _quiet(sandbox: SharedSandbox) -> None:
    """Between runs: no webhook registration left from the last one, its deliveries done (bounded wait).

    Every run registers a webhook (paycert for its receiver, schemathesis with generated URLs); left there,
    each later payment would be delivered to every dead receiver of every earlier run.
    """
    token = sandbox.gustaffo_token()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{sandbox.base_url}/gustaffo/api/v1/webhooks"
    with httpx.Client(verify=str(sandbox.ca_file), timeout=10.0, headers=headers) as http:
        for registration in http.get(base).json().get("webhooks", []):
            http.delete(f"{base}/{registration['webhookId']}")
    database = sandbox.data_dir / "sandbox.sqlite3"
    deadline = time.monotonic() + OUTBOX_QUIET_TIMEOUT_S
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as books:
        query = "SELECT count(*) FROM deliveries WHERE state = 'pending'"
        while books.execute(query).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.2)


# ----------------------------------------------------------------------------------------- the commands


def _paycert_run(context: Context, *args: str) -> list[str]:
    return ["paycert", "run", "--report-dir", str(context.reports), *args]


def scenarios_sides(context: Context) -> Sides:
    sandbox = context.shared_sandbox()
    paycert = _paycert_run(context, "--target", str(sandbox.target_file), "-g", "gustaffo", "-s", "scenarios")
    plain = [
        sys.executable,
        str(BENCH / "plain_scenarios.py"),
        "--base-url",
        f"{sandbox.base_url}/gustaffo",
        "--ca-file",
        str(sandbox.ca_file),
    ]
    return Side("paycert run -s scenarios", paycert), Side("plain httpx script", plain)


def fixed_cost_sides(context: Context) -> Sides:
    one = _paycert_run(context, "-g", "gustaffo", "-c", "AUTH-CREDENTIALS")
    return Side("paycert run -c AUTH-CREDENTIALS", one), Side("paycert --help", ["paycert", "--help"])


def contract_settings() -> dict[str, Any]:
    """What paycert gives schemathesis (paycert/plugin/contract_engine.py, contract_checks.py), at the defaults."""
    from paycert.plugin.contract_checks import checks_config
    from paycert.plugin.contract_engine import TESTING_PHASES, WORKERS, ContractSettings

    checks = [name for name, on in checks_config(live_read_only=False).items() if isinstance(on, dict)]
    defaults = ContractSettings()
    return {
        "checks": checks,
        "max_examples": defaults.examples,
        "seed": defaults.seed,
        "phases": list(TESTING_PHASES),
        "workers": WORKERS,
        "request_timeout": defaults.request_timeout,
    }


# The two settings paycert gives schemathesis that its command line cannot: a generated positive example
# where the spec has none, and no auth probes in the examples phase (contract_engine.build_config).
SCHEMATHESIS_TOML = """\
[phases.examples]
fill-missing = true

[phases.examples.checks.ignored_auth]
enabled = false
"""


def contract_sides(context: Context) -> Sides:
    sandbox = context.shared_sandbox()
    paycert = _paycert_run(context, "--target", str(sandbox.target_file), "-g", "gustaffo", "-s", "contract")
    settings = contract_settings()
    config = context.work / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_TOML, encoding="utf-8")
    plain = [
        "schemathesis",
        "--config-file",
        str(config),
        "run",
        str(SPEC),
        "--url",
        f"{sandbox.base_url}/gustaffo",
        "-H",
        f"Authorization: Bearer {sandbox.gustaffo_token()}",
        "--checks",
        ",".join(settings["checks"]),
        "--max-examples",
        str(settings["max_examples"]),
        "--phases",
        ",".join(settings["phases"]),
        "--seed",
        str(settings["seed"]),
        "--generation-deterministic",
        "--workers",
        str(settings["workers"]),
        "--request-timeout",
        str(settings["request_timeout"]),
        "--tls-verify",
        str(sandbox.ca_file),
        "--continue-on-failure",
        "--exclude-operation-id",
        "getToken",  # paycert leaves the token request to the AUTH criteria (contract_scope.select_operations)
        "--warnings",
        "off",
        "--no-color",
    ]
    return Side("paycert run -s contract", paycert), Side("schemathesis run", plain)


def whole_run_sides(context: Context) -> Sides:
    return Side("paycert run (everything)", _paycert_run(context)), None


def parallel_available() -> str | None:
    help_text = subprocess.run(
        ["paycert", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    if " -n " in help_text or "--workers" in help_text or "--numprocesses" in help_text:
        return None
    return "not available: paycert run has no -n"


def parallel_sides(context: Context) -> Sides:
    return Side("paycert run -n 2", _paycert_run(context, "-n", "2")), Side(
        "paycert run", _paycert_run(context)
    )


def sandbox_throughput(context: Context, rounds: int) -> dict[str, Any]:
    """bench/sandbox_throughput.py as it is (its own baseline, a trivial uvicorn app, alternated inside it)."""
    figures = Path(tempfile.mkstemp(suffix=".json", dir=context.work)[1])
    argv = [
        sys.executable,
        str(BENCH / "sandbox_throughput.py"),
        "--payments",
        "1000",
        "--stored",
        "20000",
        "--json",
        str(figures),
    ]
    wall, cpu, code = run_timed(argv, timeout_s=1200, cwd=context.work, env=context.env, log=context.log)
    result: dict[str, Any] = {"commands": {"A": _shown(argv), "B": None}, "rounds": 1, "exit_code": code}
    result["wall_s"], result["cpu_s"] = wall, cpu
    if code != 0:
        return {**result, "status": f"failed (exit {code})", "target_met": None}
    data = json.loads(figures.read_text())
    measured = [p for p in data["phases"] if p.get("ratio") is not None]
    result["phases"] = {
        p["name"]: {"payments_per_s": p["rate"], "ratio_to_baseline": p["ratio"], "lost": _lost(p)}
        for p in measured
    }
    result["stored"] = data.get("stored")
    result["idle_cpu"] = {"fresh": data.get("idle_cpu_fresh"), "stored": data.get("idle_cpu_stored")}
    lost = sum(_lost(p) or 0 for p in measured)
    result["webhooks_lost"] = lost
    result["slowest_payments_per_s"] = min(p["rate"] for p in measured) if measured else 0.0
    result["status"] = "ok"
    # Issue 15: >= 500 payments/s in every phase (fresh and with 20 000 stored) and no webhook lost.
    result["target_met"] = SANDBOX_TARGET.met_by(lost) and result["slowest_payments_per_s"] >= SANDBOX_RATE
    return result


def _lost(phase: dict[str, Any]) -> int | None:
    if phase.get("webhooks_sent") is None:
        return None
    return int(phase["webhooks_sent"] - (phase["webhooks_delivered"] or 0) - (phase["webhooks_pending"] or 0))


SANDBOX_RATE = 500.0  # payments/s, issue 15
SANDBOX_TARGET = Target(
    ">= 500 payments/s fresh and with 20 000 stored, and no webhook lost", "webhooks_lost", 0
)

COMPARISONS: dict[str, Comparison] = {
    c.name: c
    for c in (
        Comparison(
            "scenarios",
            "gustaffo's scenarios suite: paycert vs a plain httpx script making the same calls (shared sandbox)",
            rounds=5,
            timeout_s=300,
            metric="wall",
            sides=scenarios_sides,
            target=Target("scenario suite <= 1.5x the plain httpx script, wall", "wall", 1.5, of="ratio"),
            uses_sandbox=True,
            warm_up=True,
        ),
        Comparison(
            "fixed-cost",
            "a one-criterion run (embedded sandbox) vs `paycert --help`: the fixed cost of a run",
            rounds=5,
            timeout_s=120,
            metric="cpu",
            sides=fixed_cost_sides,
            target=Target("one-criterion run <= 1.5 s CPU", "cpu", 1.5),
            warm_up=True,
        ),
        Comparison(
            "contract",
            "gustaffo's contract suite vs plain `schemathesis run` with paycert's checks/examples/phases/seed",
            rounds=3,
            timeout_s=600,
            metric="wall",
            sides=contract_sides,
            target=Target("contract suite <= 1.2x plain schemathesis, wall", "wall", 1.2, of="ratio"),
            uses_sandbox=True,
        ),
        Comparison(
            "whole-run",
            "the whole default `paycert run` (embedded sandbox, every gateway and suite); no baseline",
            rounds=1,
            timeout_s=1800,
            metric="wall",
            sides=whole_run_sides,
            target=Target("whole default run < 60 s wall", "wall", 60.0, strict=True),
        ),
        Comparison(
            "parallel",
            "`paycert run -n 2` vs the serial run",
            rounds=1,
            timeout_s=1800,
            metric="wall",
            sides=parallel_sides,
            # ">= 1.5x faster than serial": -n 2's wall over the serial run's at most 1/1.5.
            target=Target("-n 2 >= 1.5x faster than serial (A/B <= 0.667)", "wall", 1 / 1.5, of="ratio"),
            available=parallel_available,
        ),
        Comparison(
            "sandbox",
            "sandbox payments/s fresh and with 20 000 stored, and lost webhooks (bench/sandbox_throughput.py)",
            rounds=1,
            timeout_s=1200,
            metric="wall",
            sides=lambda _: (Side("", []), None),
            target=SANDBOX_TARGET,
            custom=sandbox_throughput,
        ),
    )
}
