"""What `paycert run` prints while pytest runs the suites: one line per finished test, a live progress bar (the
count, the test now running and what it waits for, elapsed, ETA), then a summary table.

The per-test lines are the record a CI log keeps. Where stdout is not a terminal there is no bar to redraw: a
"still running" line every STILL_RUNNING_SECONDS of silence says instead what the run is busy with.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from typing import IO, Any

import pytest
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from paycert.core.results import Outcome, TestResult, combine
from paycert.plugin.session import RUN_STATE

# One label per outcome, for the progress lines and the table alike, so the two cannot disagree.
_LABEL = {
    "pass": "[green]pass[/green]",
    "fail": "[bold red]FAIL[/bold red]",
    "not_applicable": "[dim]n/a[/dim]",
    "not_evaluated": "[yellow]not evaluated[/yellow]",
}
_PLAIN = {k: Text.from_markup(v).plain for k, v in _LABEL.items()}
_LABEL_WIDTH = max(len(v) for v in _PLAIN.values())
_VERDICT = {"GO": "bold green", "CONDITIONAL": "bold yellow", "NO-GO": "bold red"}
# Without a terminal: the longest a CI log stays silent before a line says what the run is busy with.
STILL_RUNNING_SECONDS = 10.0


class _Now:
    """What the run is busy with: a phase or the running test (and its gateway), and what that waits for."""

    def __init__(self) -> None:
        self.doing = "collecting the suites"
        self.since = time.monotonic()
        self.wait = ""
        self.wait_since = self.since

    def start(self, doing: str) -> None:
        self.doing, self.since, self.wait = doing, time.monotonic(), ""

    def waiting(self, what: str) -> None:
        self.wait, self.wait_since = what, time.monotonic()

    def describe(self) -> str:
        now = time.monotonic()
        line = f"{self.doing} ({now - self.since:.0f} s)"
        if self.wait:
            line += f", waiting for {self.wait} ({now - self.wait_since:.0f} s)"
        return line


class _NowColumn(ProgressColumn):
    """The bar's description, read afresh at every redraw so its seconds count up."""

    def __init__(self, now: _Now) -> None:
        super().__init__()
        self._now = now

    def render(self, task: Task) -> Text:
        return Text(self._now.describe(), overflow="ellipsis", no_wrap=True)


class ProgressLines:
    """A pytest plugin object: prints a line as each certification test finishes, and shows progress.

    The line says what the report will say of the test: its status comes from the results the plugin recorded
    for it (combined by the report's own rule), never from pytest's outcome. A test pytest saw pass may have
    recorded parts that were not evaluated; one pytest saw fail may not have been evaluated at all (the
    target could not be reached); and a test that recorded nothing evidenced nothing.
    """

    def __init__(
        self, console: Console, *, live: bool | None = None, own_file: IO[str] | None = None
    ) -> None:
        self.console = console
        self._own_file = own_file
        self._config: pytest.Config | None = None
        self._durations: dict[str, float] = {}
        self._gateways: dict[str, str] = {}
        self._done = 0
        self._total: int | None = None
        self._now = _Now()
        self._live = console.is_terminal if live is None else live
        self._progress: Progress | None = None
        self._task: Any = None
        self._last_line = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @classmethod
    def from_stdout(cls, *, width: int, live: bool | None = None) -> ProgressLines:
        """Lines, bar and ticker on a duplicate of stdout's descriptor, taken before pytest starts.

        pytest captures descriptor 1 while a test runs, and that is exactly when the bar redraws and the
        "still running" line is due: written to stdout itself they would vanish into the test's capture.
        """
        try:
            fd = os.dup(sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):  # no descriptor (an in-process CLI runner)
            return cls(Console(width=width), live=live)
        out = os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1)
        return cls(Console(file=out, width=width), live=live, own_file=out)

    # -- the run's phases -------------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._start_display()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # A worker of `paycert run -n` claims its tests as it goes (paycert/plugin/shard.py): no total up front.
        claiming = self._config is not None and self._config.getoption("--paycert-claim-dir", "")
        self._total = None if claiming else len(session.items)
        for item in session.items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            gateway = params.get("gateway_id") or params.get("gateway")
            if isinstance(gateway, str):
                self._gateways[item.nodeid] = gateway
        if self._config is not None and RUN_STATE in self._config.stash:
            # The one hook through which long waits inside tests say what they wait for.
            self._config.stash[RUN_STATE].recorder.on_wait = self._now.waiting
        if self._progress is not None:
            self._progress.update(self._task, total=self._total)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        name = nodeid.split("::", 1)[-1]
        gateway = self._gateways.get(nodeid)
        self._now.start(f"running {name}" + (f" on {gateway}" if gateway and gateway not in name else ""))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._now.start("writing the report")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()

    def close(self) -> None:
        """Stop the bar and the ticker (idempotent): after the run, and when a signal ends it early."""
        self._stop.set()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=2)
            self._ticker = None
        if self._own_file is not None:
            self._own_file.close()
            self._own_file = None

    # -- output ------------------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._durations[report.nodeid] = self._durations.get(report.nodeid, 0.0) + report.duration
        if report.when != "teardown":
            return  # the test's results are complete only once it is torn down
        results = self._results_of(report.nodeid)
        outcome = combine(r.outcome for r in results)
        name = escape(report.nodeid.split("::", 1)[-1])
        duration = self._durations.pop(report.nodeid, 0.0)
        self._done += 1
        count = f"  {self._done}/{self._total}" if self._total else ""
        self._print(
            f"  {_padded(outcome)}  {_criteria(results):16} {name}  [dim]{duration:.1f}s{count}[/dim]"
        )
        if self._progress is not None:
            self._progress.update(self._task, completed=self._done)

    def _print(self, line: str) -> None:
        with self._lock:
            self.console.print(line, highlight=False, soft_wrap=True)
            self._last_line = time.monotonic()

    def _start_display(self) -> None:
        if self._live:
            self._progress = Progress(
                SpinnerColumn(),
                _NowColumn(self._now),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("paycert", total=self._total)
            self._progress.start()
        else:
            self._ticker = threading.Thread(target=self._tick, name="paycert-still-running", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        """Without a terminal: after STILL_RUNNING_SECONDS of silence, one line of what the run is busy with."""
        while not self._stop.wait(0.5):
            if time.monotonic() - self._last_line >= STILL_RUNNING_SECONDS:
                count = f"  [{self._done}/{self._total}]" if self._total else ""
                self._print(f"  [dim]still {escape(self._now.describe())}{count}[/dim]")

    def _results_of(self, nodeid: str) -> list[TestResult]:
        if self._config is None or RUN_STATE not in self._config.stash:
            return []
        results = self._config.stash[RUN_STATE].results
        # A generated test records one result per criterion, as `<nodeid>::<criterion>`.
        return [r for r in results if r.nodeid == nodeid or r.nodeid.startswith(f"{nodeid}::")]


def _padded(outcome: Outcome) -> str:
    return _LABEL[outcome.value] + " " * (_LABEL_WIDTH - len(_PLAIN[outcome.value]))


def _criteria(results: list[TestResult]) -> str:
    """The criteria the test evidenced; each with its own status when they differ (a generated test's parts)."""
    by_criterion: dict[str, list[Outcome]] = {}
    for result in results:
        for criterion in result.criteria:
            by_criterion.setdefault(criterion, []).append(result.outcome)
    combined = {c: combine(o) for c, o in by_criterion.items()}
    if len(set(combined.values())) <= 1:
        return ",".join(combined)
    return ", ".join(f"{c} {_LABEL[o.value]}" for c, o in combined.items())


def summary_table(document: dict[str, Any]) -> Table:
    # Every column of the report: the run's gateways, then the merchant and the attested criteria.
    gateways = [g["id"] for g in document.get("gateways") or document["run"]["gateways"]]
    table = Table(title="go-live criteria", show_lines=False)
    table.add_column("criterion")
    table.add_column("blocking")
    for gid in gateways:
        table.add_column(gid)
    table.add_column("status")
    for criterion in document["criteria"]:
        cells = [_LABEL.get(criterion["gateways"].get(g, {}).get("status", ""), "-") for g in gateways]
        table.add_row(
            f"{criterion['id']}",
            "yes" if criterion["blocking"] else "no",
            *cells,
            _LABEL.get(criterion["status"], criterion["status"]),
        )
    return table


def verdict_line(document: dict[str, Any]) -> str:
    verdict = document["verdict"]
    return f"[{_VERDICT.get(verdict, 'bold')}]{verdict}[/]  {document.get('verdict_reason', '')}"
