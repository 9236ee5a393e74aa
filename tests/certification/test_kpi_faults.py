"""The KPI suite against the embedded sandbox: a correct one passes the three KPI criteria and the report shows
the load's figures; with `slow-api` exactly KPI-LATENCY (non-blocking) turns red, so the verdict is CONDITIONAL."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from tests.certification.runs import REPO, Run, assert_no_leaks, shared_paycert

pytestmark = pytest.mark.slow

KPI = {"KPI-SUCCESS-RATE", "KPI-ERROR-RATE", "KPI-LATENCY"}
ARGS = ("run", "--suite", "kpi", "--gateway", "gustaffo")


@pytest.fixture(scope="module")
def correct(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "kpi-correct", *ARGS)


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "kpi-slow-api", *ARGS, "--sandbox-fault", "slow-api")


def _load(run: Run) -> dict[str, object]:
    criterion = next(c for c in run.readiness["criteria"] if c["id"] == "KPI-LATENCY")
    items = [
        e for t in criterion["gateways"]["gustaffo"]["tests"] for e in t["evidence"] if e["kind"] == "load"
    ]
    assert len(items) == 1
    load: dict[str, object] = items[0]
    return load


def test_a_correct_gateway_passes_the_kpi_criteria(correct: Run) -> None:
    assert correct.code == 0, correct.last_stderr_line()
    assert correct.with_status("pass") == KPI
    assert correct.readiness["verdict"] == "GO"
    load = _load(correct)
    assert 0 < int(str(load["requests"])) <= int(str(load["max_requests"]))
    assert {op["name"] for op in load["operations"]} >= {"create", "pay", "status"}  # type: ignore[attr-defined]
    schema = json.loads((REPO / "paycert" / "report" / "readiness.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(correct.readiness)
    assert_no_leaks(correct.run_dir)


def test_the_report_shows_the_kpi_table_and_chart(correct: Run) -> None:
    html = (correct.run_dir / "readiness.html").read_text(encoding="utf-8")
    section = html[html.index('<section class="card" id="kpi">') :]
    section = section[: section.index("</section>")]
    assert '<table class="kpi-table">' in section
    for operation in ("create", "pay", "status"):
        assert re.search(rf"<td><code>{operation}</code></td><td>\d+</td>", section), operation
    assert re.search(r"<svg [^>]*class=\"latency-chart\"", section)
    assert section.count("<rect ") >= 3 * 3  # p50, p95 and p99 bars of each operation at least


def test_a_slow_api_turns_exactly_kpi_latency_red(slow: Run) -> None:
    assert slow.code == 1, slow.last_stderr_line()
    assert slow.with_status("fail") == {"KPI-LATENCY"}
    assert slow.with_status("pass") == KPI - {"KPI-LATENCY"}
    assert slow.readiness["verdict"] == "CONDITIONAL"
    failed = next(c for c in slow.readiness["criteria"] if c["id"] == "KPI-LATENCY")
    assert "status p50" in failed["gateways"]["gustaffo"]["reason"]
