"""The HTML report as an integrator opens it: in Chromium, from disk, after a real run with a relative
`--report-dir` and `--browser`.

The verdict is visible above the fold, the status filter hides passing rows, the shopper's screenshots are
embedded, and the page logs no error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1280, "height": 800}
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_the_report_opened_in_chromium_shows_the_verdict_filters_and_screenshots(tmp_path: Path) -> None:
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium)")
    env = {**os.environ, "PAYCERT_HOME": str(REPO)}
    env.pop("PAYCERT_TARGET", None)
    command = ["run", "--browser", "-s", "scenarios", "-g", "gustaffo", "--sandbox-fault", "any-3ds-password"]
    done = subprocess.run(
        [sys.executable, "-m", "paycert", *command, "--report-dir", "reports"],
        cwd=tmp_path,  # a relative --report-dir, from a folder that is not the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-1500:] + done.stderr[-1500:]
    report = (tmp_path / "reports" / "latest" / "readiness.html").resolve()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(report.as_uri())

            verdict = page.locator("#verdict")
            box = verdict.bounding_box()
            assert verdict.inner_text() == "NO-GO"
            assert box is not None
            assert box["y"] + box["height"] <= VIEWPORT["height"], "the verdict is below the fold"
            assert page.locator("#faults").is_visible(), "the report does not say a fault was injected"

            rows = page.locator("tr.crit-row")
            every = rows.count()
            page.select_option("#filter-status", "fail")
            shown = [r for r in rows.all() if r.is_visible()]
            assert [r.get_attribute("data-id") for r in shown] == ["PAY-3DS"]
            assert every > len(shown), "the filter hid nothing"
            page.fill("#filter-text", "no such criterion anywhere")
            assert not any(r.is_visible() for r in rows.all())

            shots = page.locator("img[src^='data:image/png']")
            assert shots.count() > 0, "the shopper's screenshots are not embedded"
            page.screenshot(path=str(tmp_path / "report.png"))
            assert problems == []
        finally:
            browser.close()
