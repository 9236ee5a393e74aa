"""No written report holds a card number, a bearer token or a secret the run knows, wherever it was planted."""

from __future__ import annotations

from pathlib import Path

import pytest

from paycert.core.results import Outcome
from paycert.redaction import find_leaks
from paycert.report.readiness import build_readiness
from paycert.report.writer import write_report
from tests.report.factory import CATALOGUE, all_passing, exchange, replace, result, run_info

PAN = "4111111111111111"
SPACED_PAN = "5555 5555 5555 4444"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLXZhbHVl"
OPAQUE_TOKEN = "tok9f8e7d6c5b4a39281706"
WEBHOOK_SECRET = "whsec_s3cr3t-value-XYZ"  # only the caller knows it is secret
PLANTED = (PAN, SPACED_PAN, JWT, OPAQUE_TOKEN, WEBHOOK_SECRET)


@pytest.fixture
def written(tmp_path: Path) -> list[Path]:
    evidence = [
        exchange(
            url=f"http://127.0.0.1:8000/pay?card.number={PAN}&access_token={OPAQUE_TOKEN}",
            request_headers={"Authorization": f"Bearer {JWT}", "X-Trace": f"card {SPACED_PAN}"},
            request_body=f'{{"card": {{"number": "{PAN}", "cvv": "123"}}, "secret": "{WEBHOOK_SECRET}"}}',
            response_body=f'{{"echo": "{PAN}", "token": "{OPAQUE_TOKEN}", "hint": "{WEBHOOK_SECRET}"}}',
            curl=f"curl -H 'Authorization: Bearer {OPAQUE_TOKEN}' -d 'card.number={PAN}' http://127.0.0.1:8000/pay",
        ),
        {
            "kind": "webhook",
            "path": "/hook",
            "headers": {"x-signature": "abc"},
            "body": f'{{"pan": "{PAN}"}}',
            "received_at": 1.0,
            "answer": "200",
            "signature": "valid",
            "label": "",
        },
        {
            "kind": "note",
            "label": "finding: secret echoed",
            "text": f"the gateway echoed {WEBHOOK_SECRET} and {SPACED_PAN}",
        },
    ]
    failing = result(
        "PAY-3DS",
        "gustaffo",
        Outcome.FAIL,
        f"expected a masked card, got {PAN} with Bearer {JWT}",
        evidence=evidence,
    )
    results = replace(all_passing(), "PAY-3DS", "gustaffo", failing)
    run = run_info(harness_errors=(f"paylican: token {OPAQUE_TOKEN} rejected for card {PAN}",))

    paths = write_report(
        build_readiness(CATALOGUE, results, run), tmp_path, run.run_id, secrets=[WEBHOOK_SECRET, OPAQUE_TOKEN]
    )
    return [paths.json, paths.html, paths.junit]


def test_planted_secrets_appear_in_no_written_file(written: list[Path]) -> None:
    for path in written:
        text = path.read_text(encoding="utf-8")
        for secret in PLANTED:
            assert secret not in text, f"{secret[:6]}… leaked into {path.name}"
        assert find_leaks(text, [WEBHOOK_SECRET, OPAQUE_TOKEN]) == [], path.name


def test_redaction_keeps_what_the_reader_needs(written: list[Path]) -> None:
    json_text, html_text, junit_text = (p.read_text(encoding="utf-8") for p in written)

    # A card number is shown as first 6 / last 4, so the reader still sees which test card was used.
    assert "411111******1111" in json_text
    assert "411111******1111" in html_text
    assert "411111******1111" in junit_text
    assert "Bearer ***" in json_text
