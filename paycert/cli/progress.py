"""What `paycert run` prints while pytest runs the suites: one line per scenario, then a summary table."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from rich.markup import escape
from rich.table import Table

_MARK = {"passed": "[green]pass[/green]", "failed": "[red]FAIL[/red]", "skipped": "[yellow]n/a [/yellow]"}
_STATUS = {
    "pass": "[green]pass[/green]",
    "fail": "[bold red]FAIL[/bold red]",
    "not_applicable": "[dim]n/a[/dim]",
    "not_evaluated": "[yellow]not evaluated[/yellow]",
}
_VERDICT = {"GO": "bold green", "CONDITIONAL": "bold yellow", "NO-GO": "bold red"}


class ProgressLines:
    """A pytest plugin object: prints a line as each certification test finishes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = report.when == "call" or (report.when == "setup" and report.outcome != "passed")
        if not finished:
            return
        criteria = ",".join(
            str(c) for name, value in report.user_properties if name == "criteria" for c in _items(value)
        )
        mark = _MARK.get(report.outcome, report.outcome)
        if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2])
            mark = _MARK["skipped"] if reason.startswith("not applicable") else "[yellow]skip[/yellow]"
        name = escape(report.nodeid.split("::", 1)[-1])
        if report.outcome == "failed" and report.when != "call":
            mark = "[yellow]err [/yellow]"
        self.console.print(
            f"  {mark}  {criteria:16} {name}  [dim]{report.duration:.1f}s[/dim]",
            highlight=False,
            soft_wrap=True,
        )


def _items(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def summary_table(document: dict[str, Any]) -> Table:
    gateways = [g["id"] for g in document["run"]["gateways"]]
    table = Table(title="go-live criteria", show_lines=False)
    table.add_column("criterion")
    table.add_column("blocking")
    for gid in gateways:
        table.add_column(gid)
    table.add_column("status")
    for criterion in document["criteria"]:
        cells = [_STATUS.get(criterion["gateways"].get(g, {}).get("status", ""), "-") for g in gateways]
        table.add_row(
            f"{criterion['id']}",
            "yes" if criterion["blocking"] else "no",
            *cells,
            _STATUS.get(criterion["status"], criterion["status"]),
        )
    return table


def verdict_line(document: dict[str, Any]) -> str:
    verdict = document["verdict"]
    return f"[{_VERDICT.get(verdict, 'bold')}]{verdict}[/]  {document.get('verdict_reason', '')}"
