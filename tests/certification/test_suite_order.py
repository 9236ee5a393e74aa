"""Suites cannot break each other: the order they run in never changes a verdict or a criterion.

The generated contract tests list and delete webhook registrations (they may delete what they create); the
pact suite that follows still needs paycert's own registration, which paycert re-checks before each suite.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.certification.runs import Run, paycert

pytestmark = pytest.mark.slow

ORDERS = {
    "contract-then-pacts": ["-s", "contract", "-s", "pacts"],
    "pacts-then-contract": ["-s", "pacts", "-s", "contract"],
}


def test_contract_and_pact_suites_give_the_same_verdict_in_either_order(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(paycert, "run", *suites, report_dir=tmp_path / name)
            for name, suites in ORDERS.items()
        }
        runs: dict[str, Run] = {name: future.result() for name, future in futures.items()}

    first, second = runs["contract-then-pacts"], runs["pacts-then-contract"]
    assert first.code == 0, first.stderr[-2000:]
    assert second.code == first.code, second.stderr[-2000:]
    assert second.readiness["verdict"] == first.readiness["verdict"] == "GO"
    assert second.statuses() == first.statuses()
    assert first.statuses()["CON-PACT"] == "pass"
