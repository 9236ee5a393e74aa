"""Running a load phase from the pytest process: a child process, with a hard wall-clock kill as the backstop.

Locust patches the standard library with gevent when it is imported; the child (`python -m
paycert.load.runner`) is where that happens, never here. The child stops itself at the phase's bound; the kill
is for a child that does not (it is waited for the bound, Python's and Locust's start-up, and a grace).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from paycert.core.errors import PaycertError
from paycert.load.config import LoadConfig
from paycert.load.figures import LoadFigures

# Python's and Locust's start-up on a busy machine, plus the end of the phase (its grace, a live undo).
STARTUP_SECONDS = 30.0
KILL_GRACE_SECONDS = 15.0


class LoadPhaseError(PaycertError):
    """The load phase could not run or did not finish."""


def run_load_phase(config: LoadConfig, *, python: str = sys.executable) -> LoadFigures:
    """Run the phase `config` describes in a child process and return its figures."""
    limit = config.max_seconds + STARTUP_SECONDS + KILL_GRACE_SECONDS
    with tempfile.TemporaryDirectory(prefix="paycert-load-") as work:
        config_file = Path(work) / "load.json"
        results_file = Path(work) / "figures.json"
        config_file.write_text(
            dataclasses.replace(config, results_file=str(results_file)).to_json(), encoding="utf-8"
        )
        child = subprocess.Popen(
            [python, "-m", "paycert.load.runner", str(config_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, stderr = child.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise LoadPhaseError(
                f"the load phase against {config.gateway} did not stop within {limit:g} s and was killed"
            ) from None
        if child.returncode != 0 or not results_file.is_file():
            lines = [line for line in stderr.splitlines() if line.strip()]
            last = lines[-1] if lines else "no output"
            raise LoadPhaseError(
                f"the load phase against {config.gateway} exited {child.returncode}: {last[:300]}"
            )
        try:
            return LoadFigures.from_dict(json.loads(results_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise LoadPhaseError(f"the load phase's figures could not be read: {exc}") from None
