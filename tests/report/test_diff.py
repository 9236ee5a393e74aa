"""`paycert diff`: fixed, new failures and unchanged runs, from reports the real writer wrote."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from paycert.cli.main import app
from paycert.core.results import Outcome
from paycert.report import build_readiness, write_report
from paycert.report.diff import diff_runs
from paycert.report.writer import load_run
from tests.report.factory import CATALOGUE, all_passing, exchange, replace, result, run_info

runner = CliRunner()


def written(root: Path, run_id: str, results: list) -> Path:  # type: ignore[type-arg]
    write_report(build_readiness(CATALOGUE, results, run_info(run_id)), root, run_id)
    return root / run_id


def test_an_unchanged_run_is_not_worse_and_lists_nothing(tmp_path: Path) -> None:
    a = written(tmp_path, "20261201T000000Z-aaaa", all_passing())
    b = written(tmp_path, "20261202T000000Z-bbbb", all_passing())
    found = diff_runs(load_run(a), load_run(b))
    assert not found.worse
    assert (found.new_failures, found.fixed, found.changed, found.added, found.removed) == (
        (),
        (),
        (),
        (),
        (),
    )
    outcome = runner.invoke(app, ["diff", str(a), str(b)])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.strip().splitlines()[-1] == "nothing got worse"


def test_a_new_failure_is_worse_and_exits_1(tmp_path: Path) -> None:
    a = written(tmp_path, "20261201T000000Z-aaaa", all_passing())
    failing = result("PAY-3DS", "paylican", Outcome.FAIL, "the challenge page never came back")
    b = written(tmp_path, "20261202T000000Z-bbbb", replace(all_passing(), "PAY-3DS", "paylican", failing))
    found = diff_runs(load_run(a), load_run(b))
    assert [(c.criterion, c.gateway, c.before, c.after) for c in found.new_failures] == [
        ("PAY-3DS", "paylican", "pass", "fail")
    ]
    assert found.verdict_worse
    assert found.worse
    outcome = runner.invoke(app, ["diff", str(a), str(b)])
    assert outcome.exit_code == 1, outcome.output
    assert "PAY-3DS [paylican]: pass -> fail" in outcome.output
    assert "the challenge page never came back" in outcome.output


def test_a_fixed_criterion_is_not_worse_and_the_json_says_so(tmp_path: Path) -> None:
    broken = replace(
        all_passing(), "WH-SIG", "gustaffo", result("WH-SIG", "gustaffo", Outcome.FAIL, "bad sig")
    )
    a = written(tmp_path, "20261201T000000Z-aaaa", broken)
    b = written(tmp_path, "20261202T000000Z-bbbb", all_passing())
    outcome = runner.invoke(app, ["diff", str(a), str(b), "--json"])
    assert outcome.exit_code == 0, outcome.output
    document = json.loads(outcome.output)
    assert [(c["criterion"], c["before"], c["after"]) for c in document["fixed"]] == [
        ("WH-SIG", "fail", "pass")
    ]
    assert document["worse"] is False
    assert document["new_failures"] == []


def test_changed_evidence_and_a_lost_evaluation_are_told_apart(tmp_path: Path) -> None:
    a = written(tmp_path, "20261201T000000Z-aaaa", all_passing())
    slower = result("AUTH-TOKEN", "gustaffo", evidence=[exchange(status=200, label="token")])
    moved = replace(all_passing(), "AUTH-TOKEN", "gustaffo", slower)
    lost = replace(moved, "SEC-RATE", "paylican", None)  # no test for it any more: not evaluated
    b = written(tmp_path, "20261202T000000Z-bbbb", lost)
    found = diff_runs(load_run(a), load_run(b))
    assert [(c.criterion, c.gateway) for c in found.changed] == [("AUTH-TOKEN", "gustaffo")]
    assert found.changed[0].evidence_added == ("test_it[gustaffo]: exchange token: HTTP 200",)
    assert [(c.criterion, c.after) for c in found.now_not_evaluated] == [("SEC-RATE", "not_evaluated")]
    assert found.worse  # a non-blocking criterion no longer evaluated: CONDITIONAL, worse than GO


def test_criteria_added_and_removed_are_listed(tmp_path: Path) -> None:
    a = written(tmp_path, "20261201T000000Z-aaaa", all_passing())
    document = load_run(a)
    trimmed = dict(document, criteria=[c for c in document["criteria"] if c["id"] != "KPI-LAT"])
    found = diff_runs(trimmed, document)
    assert found.added == (("KPI-LAT", "pass"),)
    assert diff_runs(document, trimmed).removed == (("KPI-LAT", "pass"),)
    assert not found.worse


def test_a_missing_run_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    a = written(tmp_path, "20261201T000000Z-aaaa", all_passing())
    outcome = runner.invoke(app, ["diff", str(a), str(tmp_path / "nope")])
    assert outcome.exit_code == 2
    assert outcome.output.strip() == f"paycert diff: {tmp_path / 'nope'}: no such run folder"
    (tmp_path / "empty").mkdir()
    outcome = runner.invoke(app, ["diff", str(a), str(tmp_path / "empty")])
    assert outcome.exit_code == 2
    assert "no readiness.json" in outcome.output
