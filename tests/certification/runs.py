"""Running `paycert run` the way a user or CI does: a subprocess, its exit code, its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
