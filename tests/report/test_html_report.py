"""readiness.html: the verdict, every criterion, the evidence, and nothing fetched from outside the file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from paycert.core.results import Outcome, TestResult
from paycert.redaction import redact_text
from paycert.report.html_report import BODY_LIMIT, render_html
from paycert.report.json_report import readiness_to_dict
from paycert.report.readiness import build_readiness
from paycert.report.writer import write_report
from tests.report.factory import CATALOGUE, IDS, all_passing, exchange, replace, result, run_info

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _write(tmp_path: Path, results: list[TestResult], **run_overrides: Any) -> str:
    run = run_info(**run_overrides)
    run_dir = tmp_path / run.run_id
    (run_dir / "shots").mkdir(parents=True, exist_ok=True)
    (run_dir / "shots" / "pay.png").write_bytes(PNG)
    (tmp_path / "outside.png").write_bytes(PNG)
    paths = write_report(build_readiness(CATALOGUE, results, run), tmp_path, run.run_id)
    return paths.html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "verdict", "css"),
    [
        (None, "GO", "v-GO"),
        (result("KPI-LAT", "gustaffo", Outcome.FAIL, "slow"), "CONDITIONAL", "v-CONDITIONAL"),
        (result("PAY-3DS", "gustaffo", Outcome.FAIL, "no challenge"), "NO-GO", "v-NO-GO"),
    ],
)
def test_the_banner_shows_the_verdict_and_its_reason(
    tmp_path: Path, change: TestResult | None, verdict: str, css: str
) -> None:
    results = (
        all_passing()
        if change is None
        else replace(all_passing(), change.criteria[0], change.gateway, change)
    )

    page = _write(tmp_path, results)

    banner = re.search(r'<header class="banner ([^"]+)">\s*<div class="verdict"[^>]*>([^<]+)</div>', page)
    assert banner is not None
    assert banner.groups() == (css, verdict)
    assert f"<p>{verdict}: " in page


def test_every_criterion_and_gateway_is_in_the_table_and_the_evidence(tmp_path: Path) -> None:
    page = _write(tmp_path, all_passing())

    for criterion in IDS:
        assert f'<a href="#c-{criterion}"><code>{criterion}</code></a>' in page
        assert f'<details class="crit" id="c-{criterion}" data-id="{criterion}">' in page
    assert "<th>gustaffo</th>" in page
    assert "<th>paylican</th>" in page
    assert "http://127.0.0.1:8000/gustaffo" in page  # the gateway's base URL in the run section


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    evidence = [
        exchange(
            response_body='<link rel="stylesheet" href="https://cdn.example/x.css"><script src="https://e.x/a.js"></script>'
        ),
        {"kind": "attachment", "path": "shots/pay.png", "media_type": "image/png", "label": "pay page"},
    ]
    page = _write(
        tmp_path,
        replace(all_passing(), "PAY-3DS", "gustaffo", result("PAY-3DS", "gustaffo", evidence=evidence)),
    )

    lowered = page.lower()
    assert "<link" not in lowered
    assert "<script src" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered
    # Every src/href in real markup is a fragment or inline data; external URLs only appear as escaped text.
    for attribute in re.findall(r'\s(?:src|href)="([^"]*)"', page):
        assert attribute.startswith(("#", "data:")), attribute
    assert "&lt;script src=&#34;https://e.x/a.js&#34;&gt;" in page


def test_evidence_is_escaped_and_json_bodies_are_pretty_printed(tmp_path: Path) -> None:
    evidence = [exchange(response_body='{"paymentId":"pay_1","note":"<b>bold</b>"}')]
    page = _write(
        tmp_path,
        replace(all_passing(), "PAY-3DS", "gustaffo", result("PAY-3DS", "gustaffo", evidence=evidence)),
    )

    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert str(escape('{\n  "paymentId": "pay_1",')) in page
    assert "POST http://127.0.0.1:8000/gustaffo/payments" in page
    assert '<pre class="code curl">curl -X POST http://127.0.0.1:8000/gustaffo/payments</pre>' in page


def test_long_bodies_are_cut_with_a_note(tmp_path: Path) -> None:
    body = "x" * (BODY_LIMIT + 500)
    page = _write(
        tmp_path,
        replace(
            all_passing(),
            "PAY-3DS",
            "gustaffo",
            result("PAY-3DS", "gustaffo", evidence=[exchange(response_body=body)]),
        ),
    )

    assert "x" * BODY_LIMIT in page
    assert "x" * (BODY_LIMIT + 1) not in page
    assert "500 more characters not shown" in page


def test_screenshots_are_embedded_only_from_the_run_folder(tmp_path: Path) -> None:
    evidence = [
        {"kind": "attachment", "path": "shots/pay.png", "media_type": "image/png", "label": "pay page"},
        {"kind": "attachment", "path": "../outside.png", "media_type": "image/png", "label": "escape"},
    ]
    page = _write(
        tmp_path,
        replace(all_passing(), "PAY-3DS", "gustaffo", result("PAY-3DS", "gustaffo", evidence=evidence)),
    )

    data_uri = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    assert page.count(data_uri) == 1
    assert f'<img alt="pay page" src="{data_uri}">' in page
    assert "../outside.png: the file is not in the run folder" in page


def _shots(tmp_path: Path, count: int) -> tuple[dict[str, Any], Path]:
    """A readiness document with `count` screenshots as evidence, and the run folder that holds them."""
    run = run_info()
    run_dir = tmp_path / run.run_id
    (run_dir / "shots").mkdir(parents=True)
    evidence = []
    for k in range(count):
        (run_dir / "shots" / f"{k}.png").write_bytes(PNG + bytes([k]))
        evidence.append(
            {"kind": "attachment", "path": f"shots/{k}.png", "media_type": "image/png", "label": f"s{k}"}
        )
    results = replace(all_passing(), "PAY-3DS", "gustaffo", result("PAY-3DS", "gustaffo", evidence=evidence))
    return readiness_to_dict(build_readiness(CATALOGUE, results, run)), run_dir


def test_every_screenshot_survives_redaction_of_the_page(tmp_path: Path) -> None:
    # The placeholders stand in the page while it is redacted. Hex ones next to their index now and then
    # made a Luhn-valid run of digits, masked as a card number: a broken image in CI. Letters only now.
    document, run_dir = _shots(tmp_path, 30)
    seen: list[str] = []

    def redact(html: str) -> str:
        seen.append(html)
        return redact_text(html)

    page = render_html(document, run_dir=run_dir, redact=redact)

    placeholders = re.findall(r"paycert-inline-[^\"]*", seen[0])
    assert len(placeholders) == 30
    assert not any(re.search(r"[0-9]", p) for p in placeholders), placeholders[:3]
    assert "paycert-inline" not in page
    for k in range(30):
        assert f"data:image/png;base64,{base64.b64encode(PNG + bytes([k])).decode()}" in page


def test_a_placeholder_the_redaction_changed_is_rendered_again_not_shipped_broken(tmp_path: Path) -> None:
    document, run_dir = _shots(tmp_path, 3)
    calls: list[str] = []

    def redact(html: str) -> str:
        # The first time, as if a known secret matched letters of a placeholder.
        calls.append(html)
        return html.replace("paycert-inline-", "paycert-***-", 1) if len(calls) == 1 else html

    page = render_html(document, run_dir=run_dir, redact=redact)

    assert len(calls) == 2
    assert "paycert-inline" not in page
    assert "paycert-***" not in page
    assert page.count("data:image/png;base64,") == 3


def test_harness_errors_and_findings_are_prominent(tmp_path: Path) -> None:
    error = "gustaffo: cannot connect to http://127.0.0.1:9/gustaffo (connection refused)"
    note = {"kind": "note", "label": "finding: signature", "text": "SHA-256(secret+body) is not an HMAC"}
    results = replace(all_passing(), "WH-SIG", "gustaffo", result("WH-SIG", "gustaffo", evidence=[note]))

    page = _write(tmp_path, results, harness_errors=(error,))

    errors = page.index('id="harness-errors"')
    assert errors < page.index('id="run"')
    assert f"<li><code>{error}</code></li>" in page
    assert 'id="findings"' in page
    assert "SHA-256(secret+body) is not an HMAC" in page


def test_the_html_matches_the_json_verdict(tmp_path: Path) -> None:
    run = run_info()
    paths = write_report(build_readiness(CATALOGUE, all_passing(), run), tmp_path, run.run_id)

    document = json.loads(paths.json.read_text(encoding="utf-8"))
    assert str(escape(document["verdict_reason"])) in paths.html.read_text(encoding="utf-8")
