"""Exclusions (suites/contract/exclusions.yaml) excuse exactly the findings they name, never a neighbour."""

from __future__ import annotations

from paycert.plugin.contract_engine import Finding
from paycert.plugin.contract_results import load_exclusions
from tests.certification.runs import REPO

EXCLUSIONS = REPO / "suites" / "contract" / "exclusions.yaml"
REFUNDS = "POST /api/v1/payments/{paymentId}/refunds"


def _refused(body: str, *, operation: str = REFUNDS, gateway: str = "gustaffo") -> tuple[str, Finding]:
    finding = Finding(
        criterion="CON-POSITIVE",
        check="positive_data_acceptance",
        operation=operation,
        title="Schema-valid request rejected",
        message="Valid data should have been accepted",
        curl="curl -X POST ...",
        status=400,
        response_body=body,
    )
    return gateway, finding


def _excused(gateway: str, finding: Finding) -> bool:
    return any(x.matches(gateway, finding) for x in load_exclusions(EXCLUSIONS))


def test_a_refund_over_what_is_left_is_excused_only_with_its_documented_error_code() -> None:
    assert _excused(*_refused('{"error":"refund_exceeds_remaining","message":"Refund amount exceeds ..."}'))
    # Any other refusal of a valid refund is still the gateway's finding...
    assert not _excused(*_refused('{"error":"invalid_amount","message":"Invalid refund amount"}'))
    # ...and so is the same answer on another operation or from another gateway.
    assert not _excused(*_refused('{"error":"refund_exceeds_remaining"}', operation="POST /api/v1/payments"))
    assert not _excused(*_refused('{"error":"refund_exceeds_remaining"}', gateway="paylican"))
