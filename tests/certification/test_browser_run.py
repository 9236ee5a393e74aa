"""`paycert run --browser`: the same scenarios pass with the shopper in real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.certification.runs import paycert

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_payment_scenarios_pass_in_headless_chromium(tmp_path: Path) -> None:
    run = paycert("run", "--browser", "--suite", "scenarios", report_dir=tmp_path)

    assert run.code == 0, run.stderr[-2000:]
    assert run.readiness["verdict"] == "GO"
    screenshots = sorted((run.run_dir / "screenshots").glob("*.png"))
    assert len(screenshots) >= 10, "the browser left no screenshots as evidence"
    html = (run.run_dir / "readiness.html").read_text()
    assert html.count("data:image/png;base64,") >= len(screenshots) // 2
