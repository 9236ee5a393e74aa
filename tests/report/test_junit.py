"""junit.xml: one suite per gateway, one case per criterion, outcomes CI can count."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from paycert.core.results import Outcome
from paycert.report.json_report import readiness_to_dict
from paycert.report.junit import HARNESS_SUITE, render_junit
from paycert.report.readiness import build_readiness
from paycert.report.writer import write_report
from tests.report.factory import CATALOGUE, IDS, all_passing, replace, result, run_info


def _suites(root: ET.Element) -> dict[str, ET.Element]:
    return {s.get("name", ""): s for s in root.iter("testsuite")}


def test_junit_parses_and_counts_each_outcome(tmp_path: Path) -> None:
    results = replace(
        all_passing(), "WH-SIG", "gustaffo", result("WH-SIG", "gustaffo", Outcome.FAIL, "unsigned\ndetail")
    )
    results = replace(results, "KPI-LAT", "gustaffo", result("KPI-LAT", "gustaffo", Outcome.FAIL, "slow"))
    results = replace(
        results, "PAY-3DS", "paylican", result("PAY-3DS", "paylican", Outcome.NOT_APPLICABLE, "no 3DS")
    )
    results = replace(results, "SEC-RATE", "paylican", None)
    run = run_info()

    paths = write_report(build_readiness(CATALOGUE, results, run), tmp_path, run.run_id)
    root = ET.parse(paths.junit).getroot()

    suites = _suites(root)
    assert list(suites) == ["gustaffo", "paylican"]
    gustaffo, paylican = suites["gustaffo"], suites["paylican"]
    assert {k: gustaffo.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5",
        "failures": "2",
        "errors": "0",
        "skipped": "0",
    }
    assert {k: paylican.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5",
        "failures": "0",
        "errors": "1",
        "skipped": "1",
    }
    assert root.get("failures") == "2"
    assert [c.get("name", "").split()[0] for c in gustaffo.iter("testcase")] == list(IDS)

    case = next(c for c in gustaffo.iter("testcase") if c.get("name", "").startswith("WH-SIG"))
    assert case.get("classname") == "WH"
    assert case.get("name") == "WH-SIG Webhooks are signed"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "unsigned"
    assert "unsigned\ndetail" in (failure.text or "")

    skipped = next(c for c in paylican.iter("testcase") if c.get("name", "").startswith("PAY-3DS")).find(
        "skipped"
    )
    assert skipped is not None
    assert skipped.get("message") == "no 3DS"
    error = next(c for c in paylican.iter("testcase") if c.get("name", "").startswith("SEC-RATE")).find(
        "error"
    )
    assert error is not None
    assert error.get("message") == "no test evidenced it"


def test_harness_errors_get_their_own_suite() -> None:
    errors = ("gustaffo: cannot connect", "merchant: bad target")
    document = readiness_to_dict(build_readiness(CATALOGUE, all_passing(), run_info(harness_errors=errors)))

    root = ET.fromstring(render_junit(document))

    harness = _suites(root)[HARNESS_SUITE]
    assert harness.get("errors") == "2"
    assert [e.get("message") for e in harness.iter("error")] == list(errors)


def test_control_characters_in_reasons_do_not_break_the_xml() -> None:
    results = replace(
        all_passing(),
        "PAY-3DS",
        "gustaffo",
        result("PAY-3DS", "gustaffo", Outcome.FAIL, "bad \x1b[31mred\x00"),
    )

    text = render_junit(readiness_to_dict(build_readiness(CATALOGUE, results, run_info())))

    root = ET.fromstring(text)
    assert root.get("failures") == "1"
