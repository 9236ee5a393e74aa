"""readiness.json: valid against its own schema, stable, and tolerant of odd evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from paycert.core.criteria import Catalogue
from paycert.core.results import Outcome, TestResult
from paycert.report.json_report import dumps, load_schema, normalize_evidence, readiness_to_dict
from paycert.report.readiness import build_readiness
from paycert.report.run import RunInfo, Selection
from paycert.report.writer import write_report
from tests.report.factory import CATALOGUE, all_passing, exchange, replace, result, run_info


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _rich_results() -> list[TestResult]:
    evidence = [
        exchange(),
        exchange(status=None, response_body=None, error="connection refused", response_headers={}),
        {
            "kind": "webhook",
            "path": "/hook",
            "headers": {"x-signature": "ab"},
            "body": "{}",
            "received_at": 1.5,
            "answer": "200",
            "signature": "valid",
            "label": "payment.completed",
        },
        {"kind": "note", "label": "finding: hmac", "text": "not an HMAC"},
        {"kind": "attachment", "path": "shots/pay.png", "media_type": "image/png", "label": "pay page"},
    ]
    results = replace(all_passing(), "PAY-3DS", "gustaffo", result("PAY-3DS", "gustaffo", evidence=evidence))
    results = replace(
        results, "WH-SIG", "paylican", result("WH-SIG", "paylican", Outcome.NOT_APPLICABLE, "unsigned")
    )
    return replace(results, "KPI-LAT", "gustaffo", result("KPI-LAT", "gustaffo", Outcome.FAIL, "slow"))


def test_written_json_validates_against_the_schema(
    tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    run = run_info(harness_errors=("paylican: cannot connect",), selection=Selection(suites=("webhooks",)))
    readiness = build_readiness(CATALOGUE, _rich_results(), run)

    paths = write_report(readiness, tmp_path, run.run_id)
    document = json.loads(paths.json.read_text(encoding="utf-8"))

    validator.validate(document)
    assert document["schema_version"] == 1
    assert document["verdict"] == "NO-GO"
    assert document["run"]["harness_errors"] == document["harness_errors"] == ["paylican: cannot connect"]
    assert [c["id"] for c in document["criteria"]] == [c.id for c in CATALOGUE]
    cell = document["criteria"][1]["gateways"]["gustaffo"]
    assert [e["kind"] for e in cell["tests"][0]["evidence"]] == [
        "exchange",
        "exchange",
        "webhook",
        "note",
        "attachment",
    ]
    assert document["findings"][0]["text"] == "not an HMAC"


def test_the_schema_rejects_a_document_that_breaks_it(validator: jsonschema.Draft202012Validator) -> None:
    document = readiness_to_dict(build_readiness(CATALOGUE, all_passing(), run_info()))
    validator.validate(document)

    document["verdict"] = "MAYBE"
    document["criteria"][0]["gateways"]["gustaffo"]["status"] = "passed"
    errors = list(validator.iter_errors(document))
    assert len(errors) == 2


def test_output_is_stable_with_sorted_keys() -> None:
    first = dumps(readiness_to_dict(build_readiness(CATALOGUE, _rich_results(), run_info())))
    second = dumps(readiness_to_dict(build_readiness(CATALOGUE, _rich_results(), run_info())))

    assert first == second
    top = list(json.loads(first))
    assert top == sorted(top)
    assert first.endswith("}\n")


def test_odd_evidence_is_normalized_into_valid_items(validator: jsonschema.Draft202012Validator) -> None:
    odd: list[dict[str, Any]] = [
        {
            "kind": "exchange",
            "method": "GET",
            "url": "http://x/",
            "request_body": b"raw \xff bytes",
            "status": "200",
        },
        {"kind": "webhook", "body": None, "headers": {"n": 1}},
        {"kind": "video", "path": "x.webm"},
        {"kind": "note", "text": {"structured": True}},
    ]
    normalized = [normalize_evidence(item) for item in odd]

    assert normalized[0]["status"] == 200
    assert normalized[0]["request_body"] == "raw \ufffd bytes"
    assert normalized[1]["body"] == ""
    assert normalized[1]["headers"] == {"n": "1"}
    assert normalized[2]["kind"] == "note"
    assert "video" in normalized[2]["text"]
    document = readiness_to_dict(
        build_readiness(CATALOGUE, [result("PAY-3DS", "gustaffo", evidence=odd)], run_info())
    )
    validator.validate(document)


def test_run_info_round_trips_through_its_dict() -> None:
    run = run_info(
        selection=Selection(("contract",), ("PAY-3DS",), ("gustaffo",), "refund"), in_scope=("PAY-3DS",)
    )

    assert RunInfo.from_dict(json.loads(json.dumps(run.to_dict()))) == run


def test_the_shipped_catalogue_reports_every_criterion(
    tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    catalogue = Catalogue.from_path(Path(__file__).parents[2] / "specs" / "readiness.yaml")
    gateway_ids = [g.id for g in run_info().gateways]
    results = [result(c.id, g) for c in catalogue for g in gateway_ids]
    run = run_info()

    paths = write_report(build_readiness(catalogue, results, run), tmp_path, run.run_id)

    document = json.loads(paths.json.read_text(encoding="utf-8"))
    validator.validate(document)
    assert document["verdict"] == "GO"
    assert [c["id"] for c in document["criteria"]] == [c.id for c in catalogue]
    page = paths.html.read_text(encoding="utf-8")
    assert all(f'id="c-{c.id}"' in page for c in catalogue)
    # A catalogue source quoting a test card is masked like any other card number in the report.
    assert "4111111111111111" not in paths.json.read_text(encoding="utf-8") + page
