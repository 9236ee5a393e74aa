"""The go-live readiness report: the readiness model built from the tests' results, and its writers.

`build_readiness(catalogue, results, run)` judges every criterion; `write_report(readiness, reports_root,
run_id, secrets=...)` writes `readiness.json`, `readiness.html` and `junit.xml` into `reports_root/<run_id>/`.
"""

from __future__ import annotations

from paycert.core.run_ids import new_run_id, utc_now_iso
from paycert.report.html_report import render_html
from paycert.report.json_report import SCHEMA_VERSION, load_schema, readiness_to_dict
from paycert.report.junit import render_junit
from paycert.report.readiness import (
    NO_TEST_REASON,
    CriterionStatus,
    Finding,
    GatewayStatus,
    Readiness,
    build_readiness,
)
from paycert.report.run import GatewayInfo, RunInfo, Selection, ShardInfo
from paycert.report.trend import StatusChange, Trend, compare
from paycert.report.writer import ReportPaths, load_readiness, point_latest, previous_readiness, write_report

__all__ = [
    "NO_TEST_REASON",
    "SCHEMA_VERSION",
    "CriterionStatus",
    "Finding",
    "GatewayInfo",
    "GatewayStatus",
    "Readiness",
    "ReportPaths",
    "RunInfo",
    "Selection",
    "ShardInfo",
    "StatusChange",
    "Trend",
    "build_readiness",
    "compare",
    "load_readiness",
    "load_schema",
    "new_run_id",
    "point_latest",
    "previous_readiness",
    "readiness_to_dict",
    "render_html",
    "render_junit",
    "utc_now_iso",
    "write_report",
]
