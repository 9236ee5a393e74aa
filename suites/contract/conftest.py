"""Fixtures of the generated contract suites: the QA's budget and the exclusions, read once per run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from paycert.plugin.contract_engine import ContractBudget
from paycert.plugin.contract_results import Exclusion, load_exclusions

EXCLUSIONS = Path(__file__).with_name("exclusions.yaml")


@pytest.fixture(scope="session")
def contract_budget(request: pytest.FixtureRequest) -> ContractBudget:
    """`--contract-examples`, `--contract-budget` and the run's `--seed`; the clock starts with the first test."""
    budget = float(request.config.getoption("--paycert-contract-budget"))
    seed = request.config.getoption("--paycert-seed")
    return ContractBudget(
        examples=int(request.config.getoption("--paycert-contract-examples")),
        budget_s=budget,
        seed=int(seed) if seed is not None else 0,
        deadline=time.monotonic() + budget,
    )


@pytest.fixture(scope="session")
def contract_exclusions() -> list[Exclusion]:
    """Checks that do not apply to some operations, each with its reason (shown in the report)."""
    return load_exclusions(EXCLUSIONS)
