"""The experience suite (UX-MOBILE, UX-ERRORS) in real Chromium: it passes on the correct sandbox, and each of
its faults turns exactly its criterion red. One gateway is enough: the faults change pages every gateway
shares (the sandbox's page layout, the reference merchant's return page), and gustaffo has both a hosted
payment page and a 3-D Secure page."""

from __future__ import annotations

import os

import pytest

from tests.certification.runs import Run, assert_no_leaks, paycert

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian's chromium is not installed"),
]

EXPERIENCE = ("run", "--suite", "experience", "--gateway", "gustaffo")


def experience_run(tmp_path_factory: pytest.TempPathFactory, *fault: str) -> Run:
    return paycert(*EXPERIENCE, *fault, report_dir=tmp_path_factory.mktemp("reports"))


def test_the_correct_sandbox_fits_a_phone_and_explains_a_failure(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = experience_run(tmp_path_factory)

    assert run.code == 0, run.last_stderr_line()
    assert run.statuses() == {"UX-MOBILE": "pass", "UX-ERRORS": "pass"}
    mobile = next(c for c in run.readiness["criteria"] if c["id"] == "UX-MOBILE")
    assert set(mobile["gateways"]) == {"gustaffo", "merchant"}
    # The evidence: a screenshot of each page at 375 px, embedded in the HTML report, and none shows a card.
    shots = sorted((run.run_dir / "screenshots").glob("phone-*.png"))
    for page in ("payment", "challenge", "merchant-return"):
        assert any(s.stem.endswith(f"-{page}") for s in shots), f"no screenshot of the {page} page"
    assert (run.run_dir / "readiness.html").read_text().count("data:image/png;base64,") >= 4
    assert_no_leaks(run.run_dir)


def test_a_desktop_only_payment_page_turns_exactly_ux_mobile_red(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = experience_run(tmp_path_factory, "--sandbox-fault", "desktop-only-page")

    assert run.code == 1, run.last_stderr_line()
    assert run.with_status("fail") == {"UX-MOBILE"}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    # UX-MOBILE is not blocking: a page that does not fit a phone is a condition, not a stop.
    assert run.readiness["verdict"] == "CONDITIONAL"
    cell = next(c for c in run.readiness["criteria"] if c["id"] == "UX-MOBILE")["gateways"]
    assert cell["merchant"]["status"] == "pass"
    reason = cell["gustaffo"]["reason"]
    assert "scrolls sideways" in reason
    assert "tap target" in reason


def test_a_silent_decline_turns_exactly_ux_errors_red(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = experience_run(tmp_path_factory, "--sandbox-fault", "silent-decline")

    assert run.code == 1, run.last_stderr_line()
    assert run.with_status("fail") == {"UX-ERRORS"}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    assert run.readiness["verdict"] == "NO-GO"
    reason = next(c for c in run.readiness["criteria"] if c["id"] == "UX-ERRORS")["gateways"]["gustaffo"][
        "reason"
    ]
    assert "reads no message" in reason
