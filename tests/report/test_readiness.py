"""The readiness model: each verdict rule, and how a criterion's status per gateway is decided."""

from __future__ import annotations

from paycert.core.results import Outcome, Verdict
from paycert.report.readiness import NO_TEST_REASON, build_readiness
from tests.report.factory import CATALOGUE, IDS, all_passing, replace, result, run_info


def test_everything_passing_or_not_applicable_is_go() -> None:
    results = replace(
        all_passing(), "PAY-3DS", "paylican", result("PAY-3DS", "paylican", Outcome.NOT_APPLICABLE, "no 3DS")
    )

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.verdict is Verdict.GO
    assert readiness.verdict_reason.startswith("GO: all 5 criteria in scope passed")
    # Not applicable for one gateway and passed for the other is a pass overall.
    assert readiness.get("PAY-3DS").status is Outcome.PASS
    assert readiness.get("PAY-3DS").for_gateway("paylican").status is Outcome.NOT_APPLICABLE  # type: ignore[union-attr]
    assert readiness.summary == {
        "pass": 5,
        "fail": 0,
        "not_applicable": 0,
        "not_evaluated": 0,
        "total": 5,
        "out_of_scope": 0,
    }


def test_not_applicable_everywhere_stays_not_applicable_and_is_go() -> None:
    results = [r for r in all_passing() if "SEC-RATE" not in r.criteria]
    results += [
        result("SEC-RATE", g, Outcome.NOT_APPLICABLE, "no rate limit documented")
        for g in ("gustaffo", "paylican")
    ]

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.get("SEC-RATE").status is Outcome.NOT_APPLICABLE
    assert readiness.verdict is Verdict.GO
    assert "1 of them do not apply" in readiness.verdict_reason


def test_a_blocking_failure_is_no_go_and_named() -> None:
    results = replace(
        all_passing(),
        "WH-SIG",
        "gustaffo",
        result("WH-SIG", "gustaffo", Outcome.FAIL, "signature not checked\ntraceback"),
    )

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.verdict is Verdict.NO_GO
    assert readiness.verdict_reason == "NO-GO: 1 blocking criterion failed: WH-SIG."
    cell = readiness.get("WH-SIG").for_gateway("gustaffo")
    assert cell is not None
    assert cell.status is Outcome.FAIL
    assert cell.reason == "signature not checked"  # the first line; the test keeps the full text
    assert cell.tests[0].reason == "signature not checked\ntraceback"


def test_a_failure_on_one_gateway_fails_the_criterion() -> None:
    results = replace(
        all_passing(), "PAY-3DS", "paylican", result("PAY-3DS", "paylican", Outcome.FAIL, "no challenge")
    )

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.get("PAY-3DS").status is Outcome.FAIL
    assert readiness.get("PAY-3DS").for_gateway("gustaffo").status is Outcome.PASS  # type: ignore[union-attr]


def test_a_blocking_criterion_not_evaluated_is_no_go() -> None:
    results = replace(
        all_passing(),
        "AUTH-TOKEN",
        "paylican",
        result("AUTH-TOKEN", "paylican", Outcome.NOT_EVALUATED, "fixture error: boom"),
    )

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.verdict is Verdict.NO_GO
    assert readiness.verdict_reason == "NO-GO: 1 blocking criterion was not evaluated: AUTH-TOKEN."
    assert readiness.get("AUTH-TOKEN").for_gateway("paylican").reason == "fixture error: boom"  # type: ignore[union-attr]


def test_a_criterion_without_any_test_is_not_evaluated_never_passed() -> None:
    results = replace(all_passing(), "PAY-3DS", "gustaffo", None)

    readiness = build_readiness(CATALOGUE, results, run_info())

    cell = readiness.get("PAY-3DS").for_gateway("gustaffo")
    assert cell is not None
    assert (cell.status, cell.reason, cell.tests) == (Outcome.NOT_EVALUATED, NO_TEST_REASON, ())
    assert readiness.get("PAY-3DS").status is Outcome.NOT_EVALUATED
    assert readiness.verdict is Verdict.NO_GO


def test_no_results_at_all_is_no_go_with_every_criterion_not_evaluated() -> None:
    readiness = build_readiness(CATALOGUE, [], run_info())

    assert readiness.verdict is Verdict.NO_GO
    assert readiness.summary["not_evaluated"] == len(IDS)
    assert "AUTH-TOKEN, PAY-3DS, WH-SIG" in readiness.verdict_reason


def test_only_non_blocking_failures_are_conditional() -> None:
    results = replace(
        all_passing(), "KPI-LAT", "gustaffo", result("KPI-LAT", "gustaffo", Outcome.FAIL, "p95 3.1 s")
    )
    results = replace(results, "SEC-RATE", "paylican", None)

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.verdict is Verdict.CONDITIONAL
    assert readiness.verdict_reason == (
        "CONDITIONAL: every blocking criterion passed or does not apply, but 1 non-blocking criterion failed: "
        "KPI-LAT; 1 non-blocking criterion was not evaluated: SEC-RATE."
    )


def test_a_harness_error_is_never_go() -> None:
    error = "gustaffo: cannot connect to http://127.0.0.1:9/gustaffo (connection refused)"

    readiness = build_readiness(CATALOGUE, all_passing(), run_info(harness_errors=(error,)))

    assert readiness.verdict is Verdict.NO_GO
    assert "paycert could not run everything" in readiness.verdict_reason
    assert error in readiness.verdict_reason


def test_a_harness_error_is_never_conditional_either() -> None:
    results = replace(
        all_passing(), "KPI-LAT", "gustaffo", result("KPI-LAT", "gustaffo", Outcome.FAIL, "slow")
    )

    readiness = build_readiness(CATALOGUE, results, run_info(harness_errors=("target file: no gateways",)))

    assert readiness.verdict is Verdict.NO_GO


def test_a_harness_error_naming_a_gateway_is_the_reason_for_its_untested_criteria() -> None:
    error = "gustaffo: cannot connect to http://127.0.0.1:9/gustaffo (connection refused)"
    results = [r for r in all_passing() if r.gateway != "gustaffo"]

    readiness = build_readiness(CATALOGUE, results, run_info(harness_errors=(error,)))

    for status in readiness.criteria:
        gustaffo, paylican = status.for_gateway("gustaffo"), status.for_gateway("paylican")
        assert gustaffo is not None
        assert paylican is not None
        assert (gustaffo.status, gustaffo.reason) == (Outcome.NOT_EVALUATED, error)
        assert paylican.status is Outcome.PASS


def test_scope_limits_the_criteria_judged() -> None:
    results = [r for r in all_passing() if "PAY-3DS" in r.criteria]

    readiness = build_readiness(CATALOGUE, results, run_info(in_scope=("PAY-3DS",)))

    assert [s.id for s in readiness.criteria] == ["PAY-3DS"]
    assert readiness.verdict is Verdict.GO
    assert readiness.summary["out_of_scope"] == 4
    assert set(readiness.out_of_scope) == set(IDS) - {"PAY-3DS"}


def test_an_empty_scope_certifies_nothing_and_is_not_go() -> None:
    readiness = build_readiness(CATALOGUE, all_passing(), run_info(in_scope=()))

    assert readiness.verdict is Verdict.NO_GO
    assert "no criterion was in scope" in readiness.verdict_reason


def test_several_tests_combine_and_the_reason_names_the_failing_ones() -> None:
    results = [
        *replace(all_passing(), "PAY-3DS", "gustaffo", None),
        result("PAY-3DS", "gustaffo", Outcome.PASS, nodeid="s.py::test_challenge_passes[gustaffo]"),
        result(
            "PAY-3DS",
            "gustaffo",
            Outcome.FAIL,
            "wrong password accepted",
            nodeid="s.py::test_wrong_password[gustaffo]",
        ),
        result(
            "PAY-3DS",
            "gustaffo",
            Outcome.FAIL,
            "no challenge page",
            nodeid="s.py::test_frictionless[gustaffo]",
        ),
    ]

    cell = build_readiness(CATALOGUE, results, run_info()).get("PAY-3DS").for_gateway("gustaffo")

    assert cell is not None
    assert cell.status is Outcome.FAIL
    assert len(cell.tests) == 3
    assert cell.reason == (
        "test_wrong_password[gustaffo]: wrong password accepted; test_frictionless[gustaffo]: no challenge page"
    )


def test_a_criterion_evidenced_only_by_another_subject_is_judged_on_it_alone() -> None:
    results = [*all_passing(ids=[i for i in IDS if i != "SEC-RATE"]), result("SEC-RATE", "merchant")]

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.gateways == ("gustaffo", "paylican", "merchant")
    assert [c.gateway for c in readiness.get("SEC-RATE").gateways] == ["merchant"]
    assert readiness.get("SEC-RATE").status is Outcome.PASS
    # The gateways' criteria gain no merchant column they were never asked about, so they still pass.
    assert readiness.get("PAY-3DS").for_gateway("merchant") is None
    assert readiness.verdict is Verdict.GO


def test_a_criterion_evidenced_on_gateways_and_another_subject_is_judged_on_all() -> None:
    results = [*all_passing(), result("PAY-3DS", "merchant", Outcome.FAIL, "merchant trusts the return URL")]

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert [c.gateway for c in readiness.get("PAY-3DS").gateways] == ["gustaffo", "paylican", "merchant"]
    assert readiness.get("PAY-3DS").status is Outcome.FAIL


def test_findings_are_collected_from_notes_labelled_finding() -> None:
    finding = {"kind": "note", "label": "finding: signature", "text": "SHA-256(secret+body) is not an HMAC"}
    plain = {"kind": "note", "label": "observation", "text": "took 2 retries"}
    results = replace(
        all_passing(), "WH-SIG", "gustaffo", result("WH-SIG", "gustaffo", evidence=[finding, plain])
    )

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert [(f.gateway, f.text, f.criteria) for f in readiness.findings] == [
        ("gustaffo", "SHA-256(secret+body) is not an HMAC", ("WH-SIG",))
    ]


def test_criteria_unknown_to_the_catalogue_are_reported_not_counted() -> None:
    results = [*all_passing(), result("PAY-TYPO", "gustaffo")]

    readiness = build_readiness(CATALOGUE, results, run_info())

    assert readiness.unknown_criteria == ("PAY-TYPO",)
    assert readiness.summary["total"] == 5
