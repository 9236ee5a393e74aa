"""What `paycert run` prints while pytest runs the suites: one line per scenario, then a summary table."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from rich.markup import escape
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


class ProgressLines:
    """A pytest plugin object: prints a line as each certification test finishes.

    The line says what the report will say of the test: its status comes from the results the plugin recorded
    for it (combined by the report's own rule), never from pytest's outcome. A test pytest saw pass may have
    recorded parts that were not evaluated; one pytest saw fail may not have been evaluated at all (the
    target could not be reached); and a test that recorded nothing evidenced nothing.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._config: pytest.Config | None = None
        self._durations: dict[str, float] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._durations[report.nodeid] = self._durations.get(report.nodeid, 0.0) + report.duration
        if report.when != "teardown":
            return  # the test's results are complete only once it is torn down
        results = self._results_of(report.nodeid)
        outcome = combine(r.outcome for r in results)
        name = escape(report.nodeid.split("::", 1)[-1])
        duration = self._durations.pop(report.nodeid, 0.0)
        self.console.print(
            f"  {_padded(outcome)}  {_criteria(results):16} {name}  [dim]{duration:.1f}s[/dim]",
            highlight=False,
            soft_wrap=True,
        )

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
