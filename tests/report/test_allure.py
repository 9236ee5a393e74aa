"""allure-results/: one Allure result per test and gateway, from the redacted readiness document."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from paycert.core.results import Outcome
from paycert.redaction import luhn_valid
from paycert.report.readiness import build_readiness
from paycert.report.writer import write_report
from tests.report.factory import CATALOGUE, all_passing, exchange, replace, result, run_info

RUN_ID = "20261123T193000Z-a11e"
SECRET = "gst_secret_that_must_not_appear"


def _results(root: Path) -> dict[str, dict[str, Any]]:
    directory = root / RUN_ID / "allure-results"
    found = {}
    for path in directory.glob("*-result.json"):
        document = json.loads(path.read_text())
        found[document["fullName"]] = document
    return found


def _labels(document: dict[str, Any]) -> dict[str, str]:
    return {label["name"]: label["value"] for label in document["labels"]}


def test_each_test_of_each_gateway_is_an_allure_result_with_its_criterion_labels(tmp_path: Path) -> None:
    failing = result("WH-SIG", "paylican", Outcome.FAIL, "an unsigned webhook arrived")
    results = replace(all_passing(), "WH-SIG", "paylican", failing)
    write_report(build_readiness(CATALOGUE, results, run_info(RUN_ID)), tmp_path, RUN_ID)

    found = _results(tmp_path)
    assert len(found) == len(results)
    failed = found[failing.nodeid]
    assert failed["status"] == "failed"
    assert failed["statusDetails"]["message"] == "an unsigned webhook arrived"
    labels = _labels(failed)
    assert labels["feature"] == "WH-SIG"
    assert labels["parentSuite"] == "paylican"
    assert labels["severity"] == "blocker"
    assert {d["status"] for n, d in found.items() if n != failing.nodeid} == {"passed"}


def test_not_evaluated_is_broken_and_not_applicable_is_skipped_never_passed(tmp_path: Path) -> None:
    results = replace(
        all_passing(), "PAY-3DS", "paylican", result("PAY-3DS", "paylican", Outcome.NOT_APPLICABLE, "no 3DS")
    )
    results = replace(
        results, "KPI-LAT", "gustaffo", result("KPI-LAT", "gustaffo", Outcome.NOT_EVALUATED, "no budget")
    )
    write_report(build_readiness(CATALOGUE, results, run_info(RUN_ID)), tmp_path, RUN_ID)

    statuses = {
        (d["labels"][1]["value"], _labels(d)["parentSuite"]): d["status"] for d in _results(tmp_path).values()
    }
    assert statuses[("PAY-3DS", "paylican")] == "skipped"
    assert statuses[("KPI-LAT", "gustaffo")] == "broken"


def test_evidence_is_attached_and_redacted_like_every_other_artifact(tmp_path: Path) -> None:
    leaky = exchange(
        request_body=json.dumps({"client_secret": SECRET, "card": {"number": "4111111111111111"}}),
        request_headers={"Authorization": f"Bearer {SECRET}"},
    )
    results = replace(
        all_passing(), "AUTH-TOKEN", "gustaffo", result("AUTH-TOKEN", "gustaffo", evidence=[leaky])
    )
    readiness = build_readiness(CATALOGUE, results, run_info(RUN_ID))
    write_report(readiness, tmp_path, RUN_ID, secrets=[SECRET])

    directory = tmp_path / RUN_ID / "allure-results"
    with_evidence = next(
        d
        for d in _results(tmp_path).values()
        if _labels(d)["feature"] == "AUTH-TOKEN" and _labels(d)["tag"] == "gustaffo"
    )
    [attachment] = with_evidence["attachments"]
    evidence = json.loads((directory / attachment["source"]).read_text())
    assert evidence[0]["url"] == leaky["url"]
    for path in directory.iterdir():
        text = path.read_text()
        assert SECRET not in text, path.name
        assert "4111111111111111" not in text, path.name


def test_timestamps_that_look_like_card_numbers_survive_the_redaction(tmp_path: Path) -> None:
    # Epoch milliseconds are 13 digits, and one in ten passes the Luhn check a PAN detector applies.
    start_ms = 1795462200000  # 2026-11-23T19:30:00Z, the factory's run start
    duration_ms = next(ms for ms in range(250, 260) if luhn_valid(str(start_ms + ms)))
    results = replace(
        all_passing(),
        "WH-SIG",
        "gustaffo",
        result("WH-SIG", "gustaffo", duration_s=duration_ms / 1000),
    )
    write_report(build_readiness(CATALOGUE, results, run_info(RUN_ID)), tmp_path, RUN_ID)

    [stop] = [d["stop"] for d in _results(tmp_path).values() if d["stop"] != start_ms + 250]
    assert isinstance(stop, int), stop  # not masked into a string
    assert 1 <= stop - (start_ms + duration_ms) <= 2  # moved a millisecond or two, off the Luhn check


ALLURE = Path(__file__).resolve().parents[2] / "tools" / "node" / "node_modules" / ".bin" / "allure"


def test_allure_itself_renders_the_results_with_their_statuses(tmp_path: Path) -> None:
    # Missing prerequisites fail, not skip: a skipped render would look like a working one.
    if not ALLURE.exists():
        pytest.fail(f"Allure 3 is not installed ({ALLURE}): run npm ci --prefix tools/node")
    results = replace(
        all_passing(), "WH-SIG", "paylican", result("WH-SIG", "paylican", Outcome.FAIL, "unsigned")
    )
    results = replace(
        results, "PAY-3DS", "paylican", result("PAY-3DS", "paylican", Outcome.NOT_APPLICABLE, "no 3DS")
    )
    results = replace(
        results, "KPI-LAT", "gustaffo", result("KPI-LAT", "gustaffo", Outcome.NOT_EVALUATED, "no budget")
    )
    write_report(build_readiness(CATALOGUE, results, run_info(RUN_ID)), tmp_path, RUN_ID)

    rendered = tmp_path / "allure-report"
    done = subprocess.run(
        [str(ALLURE), "generate", str(tmp_path / RUN_ID / "allure-results"), "-o", str(rendered)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads((rendered / "summary.json").read_text())["stats"]
    assert stats == {
        "total": len(results),
        "passed": len(results) - 3,
        "failed": 1,
        "broken": 1,
        "skipped": 1,
    }
    assert (rendered / "index.html").is_file()
