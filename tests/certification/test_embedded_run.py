"""`paycert run` with no target certifies the embedded sandbox: GO, every gateway, nothing leaked."""

from __future__ import annotations

from pathlib import Path

import pytest

from paycert.redaction import find_leaks
from tests.certification.runs import CARD_NUMBERS, FORBIDDEN_PATTERNS, Run, assert_no_leaks, shared_paycert

# The module's `paycert run` is made once per test session, whichever worker gets there first.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "embedded-run", "run", temp_dir=True)


@pytest.fixture(scope="module")
def temp_dir(embedded: Run) -> Path:
    """The run's TMPDIR, where the embedded sandbox kept its data while it served."""
    return embedded.report_dir.parent / "tmp"


def test_the_embedded_sandbox_is_certified_go(embedded: Run) -> None:
    assert embedded.code == 0, embedded.stderr[-2000:]
    assert embedded.readiness["verdict"] == "GO"
    assert embedded.with_status("fail") == set()
    assert embedded.with_status("not_evaluated") == set()


def test_every_gateway_is_covered_and_every_not_applicable_says_why(embedded: Run) -> None:
    document = embedded.readiness
    assert {g["id"] for g in document["run"]["gateways"]} == {"gustaffo", "txservices", "paylican"}
    for criterion in document["criteria"]:
        for gateway, cell in criterion["gateways"].items():
            assert cell["status"] in ("pass", "not_applicable"), (criterion["id"], gateway, cell)
            if cell["status"] == "not_applicable":
                assert len(cell["reason"]) > 10, f"{criterion['id']} on {gateway} is n/a without a reason"
    paylican_3ds = next(c for c in document["criteria"] if c["id"] == "PAY-3DS")["gateways"]["paylican"]
    assert "3-D Secure" in paylican_3ds["reason"]


def test_the_report_carries_evidence_with_curl_lines(embedded: Run) -> None:
    success = next(c for c in embedded.readiness["criteria"] if c["id"] == "PAY-SUCCESS")
    evidence = [e for t in success["gateways"]["gustaffo"]["tests"] for e in t["evidence"]]
    exchanges = [e for e in evidence if e["kind"] == "exchange"]
    assert any(e["curl"].startswith("curl ") for e in exchanges)
    assert any(e["kind"] == "webhook" for e in evidence), "the completion webhook is not in the evidence"
    html = (embedded.run_dir / "readiness.html").read_text()
    assert "GO" in html
    assert "PAY-SUCCESS" in html


def test_no_artifact_holds_a_card_number_cvv_password_secret_or_token(embedded: Run) -> None:
    scanned = assert_no_leaks(embedded.run_dir)
    assert {p.name for p in scanned} >= {"readiness.json", "readiness.html", "junit.xml", "results.json"}
    assert any(p.parent.name == "allure-results" for p in scanned), "the Allure results were not scanned"


def test_the_embedded_sandbox_leaves_nothing_behind(embedded: Run, temp_dir: Path) -> None:
    assert embedded.code == 0, embedded.stderr[-2000:]
    assert not list(temp_dir.glob("paycert-embedded-*")), "the embedded sandbox's folder was left in TMPDIR"


def test_the_scan_itself_catches_a_planted_leak(tmp_path: Path) -> None:
    # The scanner must be able to fail: a report with a card number and a webhook secret in it is caught.
    planted = '{"cardNumber": "4111111111111111", "secret": "whsec_abcdef0123456789"}'
    assert find_leaks(planted, CARD_NUMBERS)
    assert any(p.search(planted) for p in FORBIDDEN_PATTERNS)


GO_LIVE_GUIDELINES = {
    "SEC-TLS",
    "SEC-HTTPS",
    "SEC-ACCESS",
    "SEC-PAN-ECHO",
    "SEC-RATE-LIMIT",
    "SEC-IP-ALLOWLIST",
    "OPS-CAPS",
    "KPI-SUCCESS-RATE",
    "KPI-ERROR-RATE",
    "KPI-LATENCY",
    "UX-MOBILE",
    "UX-ERRORS",
}


def test_every_criterion_of_the_go_live_guidelines_passes_over_https_with_the_example_attestations(
    embedded: Run,
) -> None:
    # The default run serves the sandbox over HTTPS and its target names fixtures/attestations.example.yaml.
    assert all(g["base_url"].startswith("https://") for g in embedded.readiness["run"]["gateways"])
    statuses = embedded.statuses()
    attested = {c["id"] for c in embedded.readiness["criteria"] if c["evidenced_by"] == "attestation"}
    assert len(attested) == 11
    assert {cid: statuses.get(cid) for cid in GO_LIVE_GUIDELINES | attested} == dict.fromkeys(
        GO_LIVE_GUIDELINES | attested, "pass"
    )
