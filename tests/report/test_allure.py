"""allure-results/: one Allure result per test and gateway, from the redacted readiness document."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paycert.core.results import Outcome
from paycert.redaction import luhn_valid, redact_text
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


def _masked_by_redaction(make: Callable[[str], str], seeds: Iterator[str]) -> str:
    """The first seed whose plain id the redaction would mask, as it masks a card number."""
    return next(seed for seed in seeds if redact_text(make(seed)) != make(seed))


def test_result_ids_that_hold_a_card_shaped_run_of_digits_still_name_their_files(tmp_path: Path) -> None:
    # A uuid or sha256 holds a Luhn-valid run of 13+ digits about one time in 250: masked, the result's uuid no
    # longer named its files and its attachment could not be found. Take tests whose plain ids are such.
    def nodeid(k: int) -> str:
        return f"suites/test_ids.py::test_{k}[gustaffo]"

    def plain_uuid(seed: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{RUN_ID}/WH-SIG/gustaffo/{seed}"))

    def plain_history(seed: str) -> str:
        return hashlib.sha256(f"WH-SIG/gustaffo/{seed}".encode()).hexdigest()

    by_uuid = _masked_by_redaction(plain_uuid, (nodeid(k) for k in itertools.count()))
    by_history = _masked_by_redaction(plain_history, (nodeid(k) for k in itertools.count()))
    ordinary = next(
        n
        for n in (nodeid(k) for k in itertools.count())
        if redact_text(plain_uuid(n)) == plain_uuid(n) and redact_text(plain_history(n)) == plain_history(n)
    )
    results = [r for r in all_passing() if not (r.gateway == "gustaffo" and "WH-SIG" in r.criteria)]
    results += [result("WH-SIG", "gustaffo", nodeid=n) for n in (by_uuid, by_history, ordinary)]
    write_report(build_readiness(CATALOGUE, results, run_info(RUN_ID)), tmp_path, RUN_ID)
    write_report(build_readiness(CATALOGUE, results, run_info(RUN_ID)), tmp_path / "again", RUN_ID)

    directory = tmp_path / RUN_ID / "allure-results"
    found, found_again = _results(tmp_path), _results(tmp_path / "again")
    for name in (by_uuid, by_history):
        written = found[name]
        assert (directory / f"{written['uuid']}-result.json").is_file(), written["uuid"]
        [attachment] = written["attachments"]
        assert (directory / attachment["source"]).is_file(), attachment["source"]
        assert "*" not in written["historyId"]
        assert found_again[name]["historyId"] == written["historyId"]  # Allure's history keys on it
    # An id that never held such a run is the plain digest it always was: the history of older runs holds.
    assert found[ordinary]["uuid"] == plain_uuid(ordinary)
    assert found[ordinary]["historyId"] == plain_history(ordinary)


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
