"""Running `paycert run` the way a user or CI does: a subprocess, its exit code, its report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from paycert.redaction import find_leaks
from paycert.sandbox.gateways import GATEWAYS
from tests.shared_once import shared_once

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 420


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def readiness(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.report_dir / "latest" / "readiness.json").read_text())
        return document

    @property
    def run_dir(self) -> Path:
        return (self.report_dir / "latest").resolve()

    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.readiness["criteria"]}

    def with_status(self, status: str) -> set[str]:
        return {cid for cid, s in self.statuses().items() if s == status}

    def cells(self, criterion: str) -> dict[str, dict[str, str]]:
        """The criterion's per-gateway cells of the report: status and reason by gateway."""
        found = next(c for c in self.readiness["criteria"] if c["id"] == criterion)
        gateways: dict[str, dict[str, str]] = found["gateways"]
        return gateways

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "report_dir": str(self.report_dir),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Run:
        return cls(int(raw["code"]), str(raw["stdout"]), str(raw["stderr"]), Path(raw["report_dir"]))

    def last_stderr_line(self) -> str:
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


def paycert(*args: str, report_dir: Path, env: dict[str, str] | None = None) -> Run:
    """`python -m paycert ARGS --report-dir DIR` from the repository root."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PAYCERT_TARGET", None)
    done = subprocess.run(
        [sys.executable, "-m", "paycert", *args, "--report-dir", str(report_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        env=full_env,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, report_dir)


def shared_paycert(
    tmp_path_factory: pytest.TempPathFactory, key: str, *args: str, temp_dir: bool = False
) -> Run:
    """`paycert ARGS` made once per test session for `key`, whichever worker asks first (tests/shared_once.py).

    Its report folder is `<work>/reports`; with `temp_dir`, the run's TMPDIR is `<work>/tmp` (made first).
    """

    def produce(work: Path) -> dict[str, Any]:
        env = None
        if temp_dir:
            (work / "tmp").mkdir(exist_ok=True)
            env = {"TMPDIR": str(work / "tmp")}
        return paycert(*args, report_dir=work / "reports", env=env).to_dict()

    return Run.from_dict(shared_once(tmp_path_factory, key, produce))


# What must never reach an artifact, beyond the credentials: the sandbox's test card numbers, CVVs in
# their fields, the 3-D Secure password, webhook secrets, tokens.
CARD_NUMBERS = [
    "4111111111111111",
    "5555555555554444",
    "378282246310005",
    "5549110920049586",
    "370000000000002",
    "4000000000000002",
    "4000000000009995",
]
FORBIDDEN_PATTERNS = [
    re.compile(r"whsec_[0-9A-Za-z+/=]{8,}"),  # webhook secrets
    re.compile(r"eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}"),  # JWT-shaped tokens (txservices authtoken)
    re.compile(r"password1"),  # the 3-D Secure password
    re.compile(r'"(?:cvv|card\.cvv|csc)"\s*:\s*"\d{3,4}"'),
    re.compile(r"(?:cvv|card\.cvv)=\d{3,4}"),
]


PUBLIC = {"member_id", "terminal_id", "partner_id", "client_id"}


def assert_evaluated_where_offered(run: Run, offered: Mapping[str, set[str]]) -> None:
    """Each criterion passed on the gateways that offer it, and elsewhere is not applicable with the profile's
    own reason (specs/<gateway>/profile.yaml `unsupported`), which names its document."""
    for criterion, where in offered.items():
        statuses = {gateway: cell["status"] for gateway, cell in run.cells(criterion).items()}
        assert {g for g, s in statuses.items() if s == "pass"} == where, (criterion, statuses)
        assert {g for g, s in statuses.items() if s == "not_applicable"} == set(statuses) - where
        for gateway in set(statuses) - where:
            reason = run.cells(criterion)[gateway]["reason"]
            assert "document (00" in reason or "guide (00" in reason, (criterion, gateway, reason)


def assert_only_red(run: Run, criterion: str, red_on: set[str]) -> None:
    """A fault's run: NO-GO (exit 1) with exactly `criterion` failed, on exactly the gateways `red_on`, each
    failure saying why, and nothing left not evaluated."""
    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == {criterion}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    assert run.readiness["verdict"] == "NO-GO"
    failed = {gateway: cell for gateway, cell in run.cells(criterion).items() if cell["status"] == "fail"}
    assert set(failed) == red_on
    assert all(cell["reason"] for cell in failed.values()), f"{criterion} failed without saying why"


def assert_no_leaks(run_dir: Path) -> list[Path]:
    """Every text artifact of a run is free of card numbers, CVVs, passwords, secrets and tokens."""
    secrets = [v for g in GATEWAYS for k, v in g.CREDENTIALS.items() if k not in PUBLIC]
    files = [p for p in run_dir.rglob("*") if p.is_file() and p.suffix in {".json", ".html", ".xml", ".txt"}]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        leaks = find_leaks(text, [*secrets, *CARD_NUMBERS])
        assert not leaks, f"{path.relative_to(run_dir)}: {leaks[:3]}"
        for pattern in FORBIDDEN_PATTERNS:
            assert not pattern.search(text), f"{path.relative_to(run_dir)} holds {pattern.pattern!r}"
    return files
