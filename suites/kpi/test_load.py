"""KPI (002 §3.2): under a bounded load of checkouts (create a payment, pay it, read its status), the gateway
completes the payments, answers without errors, and answers in time, within the target's thresholds.

One load phase per gateway (Locust, in a child process, stopped at `kpi.max_requests` or `kpi.max_seconds`)
is shared by the three tests; its figures are in each one's evidence.
"""

from __future__ import annotations

import pytest

from paycert.load.figures import LoadFigures
from paycert.targets.settings import KpiSettings


@pytest.mark.criterion("KPI-SUCCESS-RATE")
def test_payments_under_load_complete(load_phase: LoadFigures, kpi: KpiSettings) -> None:
    assert load_phase.iterations, (
        f"no checkout finished within the bounds ({load_phase.requests} requests in {load_phase.seconds:.1f} s)"
    )
    assert load_phase.success_rate >= kpi.success_rate, (
        f"{load_phase.completed} of {load_phase.iterations} checkouts under load completed "
        f"({load_phase.success_rate:.1%}), below {kpi.success_rate:.1%}"
    )


@pytest.mark.criterion("KPI-ERROR-RATE")
def test_requests_under_load_do_not_fail(load_phase: LoadFigures, kpi: KpiSettings) -> None:
    assert load_phase.error_rate <= kpi.error_rate, (
        f"{load_phase.failed} of {load_phase.answered} requests under load failed "
        f"({load_phase.error_rate:.1%}, above {kpi.error_rate:.1%}): {'; '.join(load_phase.errors[:3])}"
    )


@pytest.mark.criterion("KPI-LATENCY")
def test_operations_under_load_answer_in_time(load_phase: LoadFigures, kpi: KpiSettings) -> None:
    over = load_phase.over_latency(kpi)
    assert not over, f"latency under load above the thresholds: {'; '.join(over)}"
