"""The comparison with the previous run, on readiness.json documents."""

from __future__ import annotations

from typing import Any

from paycert.report.trend import compare


def _doc(verdict: str, **statuses: dict[str, str]) -> dict[str, Any]:
    criteria = [
        {
            "id": cid.replace("_", "-"),
            "title": cid,
            "status": cells.pop("status"),
            "gateways": {g: {"status": s} for g, s in cells.items()},
        }
        for cid, cells in ((k, dict(v)) for k, v in statuses.items())
    ]
    return {"verdict": verdict, "run": {"run_id": f"run-{verdict}", "started_at": "t"}, "criteria": criteria}


def test_no_previous_run_means_no_trend() -> None:
    assert compare(_doc("GO"), None) is None


def test_changes_name_the_criteria_that_moved_and_how() -> None:
    previous = _doc(
        "GO",
        PAY_3DS={"status": "pass", "gw": "pass"},
        WH_SIG={"status": "pass", "gw": "pass"},
        OLD_ONE={"status": "pass"},
    )
    current = _doc(
        "NO-GO",
        PAY_3DS={"status": "fail", "gw": "fail"},
        WH_SIG={"status": "pass", "gw": "pass"},
        NEW_ONE={"status": "not_evaluated", "gw": "not_evaluated"},
    )

    trend = compare(current, previous)

    assert trend is not None
    assert trend.verdict_changed
    assert (trend.previous_run_id, trend.previous_verdict) == ("run-GO", "GO")
    assert [c.describe() for c in trend.changes] == [
        "PAY-3DS: pass -> fail",
        "NEW-ONE: not in run -> not_evaluated",
        "OLD-ONE: pass -> not in run",
    ]
    assert trend.changes[0].gateways == (("gw", "pass", "fail"),)


def test_a_gateway_that_moved_under_an_unchanged_status_is_listed_as_still() -> None:
    previous = _doc("GO", PAY_3DS={"status": "pass", "a": "pass", "b": "pass"})
    current = _doc("GO", PAY_3DS={"status": "pass", "a": "pass", "b": "not_applicable"})

    trend = compare(current, previous)

    assert trend is not None
    assert not trend.verdict_changed
    assert [c.describe() for c in trend.changes] == ["PAY-3DS: still pass"]
    assert trend.changes[0].gateways == (("b", "pass", "not_applicable"),)
