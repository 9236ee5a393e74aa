"""The evidence rule, as a property of the result model: no criterion is ever `pass` with zero checks run.

Whatever tests report (any outcome, any number of checks, any mix of criteria and gateways), a criterion
cell that passes has at least one result behind it whose checks really ran against the target, and a
result that said "pass" with no check is not a pass.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from paycert.core.results import NO_CHECK_REASON, Outcome, TestResult
from paycert.report import build_readiness
from tests.report.factory import CATALOGUE, GATEWAYS, IDS, run_info

results = st.builds(
    TestResult,
    nodeid=st.text(min_size=1, max_size=12),
    criteria=st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True).map(tuple),
    gateway=st.sampled_from(GATEWAYS),
    outcome=st.sampled_from(Outcome),
    reason=st.text(max_size=20),
    checks=st.integers(min_value=0, max_value=3),
)


@given(st.lists(results, max_size=25))
@settings(max_examples=300, deadline=None)
def test_no_criterion_passes_without_a_check_that_ran_against_the_target(recorded: list[TestResult]) -> None:
    readiness = build_readiness(CATALOGUE, recorded, run_info())

    for status in readiness.criteria:
        for cell in status.gateways:
            if cell.status is Outcome.PASS:
                assert cell.tests, (status.criterion.id, cell.gateway)
                assert sum(t.checks for t in cell.tests) >= 1, (status.criterion.id, cell.gateway)
                assert all(t.outcome is not Outcome.PASS or t.checks >= 1 for t in cell.tests)
        if status.status is Outcome.PASS:
            assert any(c.status is Outcome.PASS for c in status.gateways)


@given(results)
def test_a_result_with_no_check_is_never_a_pass(result: TestResult) -> None:
    assert result.checks >= 1 or result.outcome is not Outcome.PASS


def test_a_checked_pass_stays_a_pass_and_survives_a_round_trip() -> None:
    checked = TestResult("t", ("PAY-SUCCESS",), "gustaffo", Outcome.PASS, "fine", checks=2)
    unchecked = TestResult("t", ("PAY-SUCCESS",), "gustaffo", Outcome.PASS, "fine")

    assert checked.outcome is Outcome.PASS
    assert TestResult.from_dict(checked.to_dict()) == checked
    assert unchecked.outcome is Outcome.NOT_EVALUATED
    assert unchecked.reason == f"{NO_CHECK_REASON} (the test said: fine)"
    assert TestResult.from_dict({**checked.to_dict(), "checks": 0}).outcome is Outcome.NOT_EVALUATED
