"""`paycert report RUN_DIR`: write a finished run's report again, e.g. after a paycert upgrade.

The readiness model is rebuilt the way the run built it: from the tests' raw results (results.json) and the
run's own facts (the `run` of its readiness.json: scope, harness errors, gateways), judged by the installed
paycert's catalogue and rules. Every artifact is written again from that one model, so they agree; a verdict
that comes out different is said out loud, because only the judging changed, not the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paycert.core.criteria import Catalogue
from paycert.report.readiness import build_readiness
from paycert.report.run import RunInfo
from paycert.report.writer import ReportPaths, load_results, load_run, write_report


@dataclass(frozen=True)
class Rerendered:
    paths: ReportPaths
    verdict: str
    previous_verdict: str

    @property
    def verdict_changed(self) -> bool:
        return self.verdict != self.previous_verdict


def rerender(run_dir: Path, catalogue: Catalogue) -> Rerendered:
    """Rebuild and rewrite readiness.json/html, junit.xml and allure-results/ of the run in `run_dir`."""
    folder = run_dir.resolve()  # `reports/latest` is a link: write into the run it names
    document = load_run(folder)
    results = load_results(folder)
    run = RunInfo.from_dict(document["run"])
    readiness = build_readiness(catalogue, results, run)
    paths = write_report(readiness, folder.parent, folder.name, latest=False)
    return Rerendered(paths, readiness.verdict.value, str(document.get("verdict", "")))
