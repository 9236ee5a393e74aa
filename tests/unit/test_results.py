"""Criterion outcomes and the verdict: never a pass by default."""

from __future__ import annotations

import pytest

from paycert.core import Outcome, Verdict, combine, decide

P, F, NA, NE = Outcome.PASS, Outcome.FAIL, Outcome.NOT_APPLICABLE, Outcome.NOT_EVALUATED


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], NE),
        ([P, P], P),
        ([P, NA], P),
        ([NA, NA], NA),
        ([P, F, NA], F),
        ([P, NE], NE),
        ([F, NE], F),
    ],
)
def test_a_criterion_combines_its_tests(outcomes: list[Outcome], expected: Outcome) -> None:
    assert combine(outcomes) is expected


@pytest.mark.parametrize(
    ("blocking", "other", "expected"),
    [
        ([P, NA], [P], Verdict.GO),
        ([P], [F], Verdict.CONDITIONAL),
        ([P], [NE], Verdict.CONDITIONAL),
        ([F], [P], Verdict.NO_GO),
        ([NE], [P], Verdict.NO_GO),
    ],
)
def test_the_verdict(blocking: list[Outcome], other: list[Outcome], expected: Verdict) -> None:
    assert decide(blocking, other) is expected
