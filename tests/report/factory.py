"""Hand-made catalogues, runs and results for the report's tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from paycert.core.criteria import Catalogue
from paycert.core.results import Outcome, TestResult
from paycert.report.run import GatewayInfo, RunInfo

GATEWAYS = ("gustaffo", "paylican")

CATALOGUE = Catalogue.from_data(
    {
        "criteria": [
            {
                "id": "AUTH-TOKEN",
                "title": "Token issued for valid credentials",
                "source": "000 §2",
                "blocking": True,
            },
            {
                "id": "PAY-3DS",
                "title": "3-D Secure challenge completes",
                "source": "000 §5",
                "blocking": True,
            },
            {"id": "WH-SIG", "title": "Webhooks are signed", "source": "000 §7", "blocking": True},
            {"id": "KPI-LAT", "title": "p95 latency under 2 s", "source": "002 KPIs", "blocking": False},
            {"id": "SEC-RATE", "title": "Rate limiting answers 429", "source": "002 §3", "blocking": False},
        ]
    }
)
IDS = tuple(c.id for c in CATALOGUE)


def run_info(run_id: str = "20261123T193000Z-ab12", **overrides: Any) -> RunInfo:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "started_at": "2026-11-23T19:30:00Z",
        "finished_at": "2026-11-23T19:31:05Z",
        "target": "embedded sandbox",
        "gateways": tuple(
            GatewayInfo(g, g.title(), f"http://127.0.0.1:8000/{g}", "sandbox") for g in GATEWAYS
        ),
        "seed": 1234,
        "paycert_version": "0.1.0",
    }
    fields.update(overrides)
    return RunInfo(**fields)


def result(
    criterion: str | tuple[str, ...],
    gateway: str,
    outcome: Outcome = Outcome.PASS,
    reason: str = "",
    evidence: Iterable[dict[str, Any]] = (),
    nodeid: str | None = None,
    duration_s: float = 0.25,
    checks: int = 1,
) -> TestResult:
    criteria = (criterion,) if isinstance(criterion, str) else criterion
    name = nodeid or f"suites/test_{criteria[0].lower().replace('-', '_')}.py::test_it[{gateway}]"
    return TestResult(name, criteria, gateway, outcome, reason, duration_s, list(evidence), checks)


def all_passing(ids: Iterable[str] = IDS, gateways: Iterable[str] = GATEWAYS) -> list[TestResult]:
    gateways = tuple(gateways)
    return [result(i, g) for i in ids for g in gateways]


def replace(
    results: list[TestResult], criterion: str, gateway: str, new: TestResult | None
) -> list[TestResult]:
    """The results with the one for (criterion, gateway) swapped for `new` (or dropped)."""
    kept = [r for r in results if not (criterion in r.criteria and r.gateway == gateway)]
    return kept if new is None else [*kept, new]


def exchange(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": "exchange",
        "method": "POST",
        "url": "http://127.0.0.1:8000/gustaffo/payments",
        "request_headers": {"Content-Type": "application/json"},
        "request_body": '{"amount": 1000, "currency": "EUR"}',
        "status": 201,
        "response_headers": {"Content-Type": "application/json"},
        "response_body": '{"paymentId": "pay_1", "status": "PENDING"}',
        "duration_ms": 12.5,
        "curl": "curl -X POST http://127.0.0.1:8000/gustaffo/payments",
        "error": None,
        "label": "create payment",
    }
    item.update(overrides)
    return item
