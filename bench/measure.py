"""Timing one command as a child process: wall time and the CPU of its whole process tree (rusage deltas).

`resource.getrusage(RUSAGE_CHILDREN)` counts every descendant that has been waited for, so the delta around one
`Popen.wait()` is the CPU of that command and of everything it started and reaped (pytest, a browser, a
sandbox thread). Servers the harness started itself are not in it: they are reaped only at the end.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    wall_s: float
    cpu_s: float  # user + system, the command and its reaped descendants
    exit_code: int  # -1: killed at its timeout
    calls: int | None = None  # requests the shared sandbox logged during the run, where it was counted

    @property
    def timed_out(self) -> bool:
        return self.exit_code == -1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(
    argv: Sequence[str],
    *,
    timeout_s: float,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
) -> tuple[float, float, int]:
    """Run `argv` to its end or its timeout (then its whole process group is killed): wall, CPU, exit code.

    Its output goes to `log` (appended), not to a pipe: nothing the command prints can block it or slow it.
    """
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        cpu_before = _children_cpu()
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one group: a timeout ends the command and whatever it started
        )
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = -1
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
        out.write(f"# exit {code}, wall {wall:.2f} s, cpu {cpu:.2f} s\n".encode())
    return wall, cpu, code
