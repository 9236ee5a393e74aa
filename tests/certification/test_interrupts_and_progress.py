"""`paycert run` and `paycert sandbox` as a user and CI meet them: a console that is never silent for long,
and Ctrl-C / SIGTERM that leave no temp folder behind and exit 130 / 143."""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.certification.runs import REPO

FIRST_LINE_SECONDS = 60
# The "still running" line comes after 10 s of silence; 2 s more for a loaded machine's scheduling.
LONGEST_GAP_SECONDS = 12.0
LEFTOVERS = ("paycert-embedded-*", "paycert-sandbox-*")


class Console:
    """A paycert subprocess with stdout piped (not a terminal, as in CI), its lines timestamped on arrival."""

    def __init__(self, *args: str, tmp: Path) -> None:
        env = {**os.environ, "TMPDIR": str(tmp)}
        env.pop("PAYCERT_TARGET", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paycert", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def next_line(self, seconds: float = FIRST_LINE_SECONDS) -> str:
        at, line = self.lines.get(timeout=seconds)
        self.seen.append((at, line))
        return line

    def until(self, pattern: str) -> str:
        while not re.search(pattern, line := self.next_line()):
            pass
        return line

    def finish(self, seconds: float = 300) -> int:
        code = self.process.wait(timeout=seconds)
        time.sleep(0.2)  # the reader's last lines
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for pattern in LEFTOVERS for p in tmp.glob(pattern))


def test_a_piped_run_is_never_silent_for_long_and_counts_its_tests(tmp_path: Path) -> None:
    # slow-webhook: each webhook leaves ~15 s after its event, so the test waits that long for it (a silent
    # 15 s without the "still running" line).
    args = ("-g", "gustaffo", "-s", "webhooks", "-c", "WH-SIGNATURE", "--sandbox-fault", "slow-webhook")
    console = Console("run", *args, "--report-dir", str(tmp_path / "r"), tmp=tmp_path)
    try:
        code = console.finish()
    finally:
        console.kill()
    times = [at for at, _ in console.seen]
    text = "\n".join(line for _, line in console.seen)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert code == 0, text
    assert max(gaps) <= LONGEST_GAP_SECONDS, f"{max(gaps):.1f} s of silence:\n{text}"
    assert re.search(r"\b1/(\d+)\b", text), text  # the count: 1/M ...
    assert re.search(r"\b(\d+)/\1\b", text), text  # ... M/M
    assert re.search(
        r"still running test_every_webhook_carries_a_valid_signature\[gustaffo\] \(\d+ s\), "
        r"waiting for 1 webhook\(s\) from gustaffo",
        text,
    ), text
    assert "certifying embedded reference sandbox: gustaffo  (" in text  # -g narrows the console's line
    header = next((tmp_path / "r").glob("*/readiness.json")).read_text()
    assert '"txservices"' not in header
    assert '"paylican"' not in header


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_run_removes_its_sandbox_folder_and_keeps_what_it_measured(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    reports = tmp_path / "r"
    console = Console("run", "-g", "gustaffo", "-s", "webhooks", "--report-dir", str(reports), tmp=tmp_path)
    try:
        assert console.next_line().startswith("embedded sandbox on "), console.seen
        assert leftovers(tmp_path), "the sandbox's folder is where this test looks for it"
        console.until(r"\b1/\d+\b")  # suites started: a test finished
        console.process.send_signal(sig)
        assert console.finish(60) == code, console.seen
    finally:
        console.kill()
    assert leftovers(tmp_path) == []
    written = list(reports.glob("*/readiness.json"))
    assert written, "the report of what was measured so far was not written"
    document = json.loads(written[0].read_text(encoding="utf-8"))
    assert document["verdict"] == "NO-GO"
    assert any("interrupted" in e for e in document["harness_errors"]), document["harness_errors"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_run_before_its_suites_start_removes_its_sandbox_folder(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    console = Console(
        "run", "-g", "gustaffo", "-s", "webhooks", "--report-dir", str(tmp_path / "r"), tmp=tmp_path
    )
    try:
        assert console.next_line().startswith("embedded sandbox on "), console.seen
        console.process.send_signal(sig)
        assert console.finish(60) == code, console.seen
    finally:
        console.kill()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_sandbox_removes_its_folder(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    console = Console("sandbox", "--port", "0", tmp=tmp_path)
    try:
        assert console.next_line().startswith("paycert sandbox on "), console.seen
        assert leftovers(tmp_path), "the sandbox's folder is where this test looks for it"
        console.process.send_signal(sig)
        assert console.finish(60) == code, console.seen
    finally:
        console.kill()
    assert leftovers(tmp_path) == []
