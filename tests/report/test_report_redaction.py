"""No written report holds a card number, a CVV, a bearer token or a secret the run knows, wherever it was
planted (bodies, headers, URLs, curl lines, webhooks, notes, reasons, harness errors), in any output:
readiness.json, readiness.html, junit.xml and every allure-results file."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest
from markupsafe import escape as html_escape

from paycert.core.results import Outcome
from paycert.redaction import find_leaks, redact_text
from paycert.report.allure import render_allure
from paycert.report.html_report import render_html
from paycert.report.json_report import dumps, readiness_to_dict
from paycert.report.junit import render_junit
from paycert.report.readiness import Readiness, build_readiness
from paycert.report.writer import write_report
from tests.redaction import reference
from tests.report.factory import CATALOGUE, all_passing, exchange, replace, result, run_info

PAN = "4111111111111111"
SPACED_PAN = "5555 5555 5555 4444"
DASHED_PAN = "3782-822463-10005"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLXZhbHVl"
OPAQUE_TOKEN = "tok9f8e7d6c5b4a39281706"
WEBHOOK_SECRET = "whsec_s3cr3t-value-XYZ"  # only the caller knows it is secret
CLIENT_SECRET = 'cs"live/Qx+7 z&<9>'  # escaped differently by JSON, URLs, HTML and XML
# A secret holding a backslash and an n: a value with a real newline there is not the secret, but written
# as JSON it becomes the secret, which only the pass over each whole written file can catch.
ESCAPED_SECRET = "ab\\ncd-s3cret"
API_KEY = "k3y-masked-by-its-name-only"  # nothing in the value itself looks secret
CVV = "987"
SECRETS = [WEBHOOK_SECRET, OPAQUE_TOKEN, CLIENT_SECRET, ESCAPED_SECRET]
PLANTED = (PAN, SPACED_PAN, DASHED_PAN, JWT, API_KEY, *SECRETS)
# A CVV is too short to look for alone: it must not stand next to its field name, however escaped.
CVV_NEXT_TO_ITS_KEY = re.compile(rf"cvv\W{{0,12}}{CVV}", re.IGNORECASE)


def planted() -> Readiness:
    """A run whose failing test carries every kind of evidence, each with something secret in it."""
    evidence = [
        exchange(
            url=f"http://127.0.0.1:8000/pay?card.number={PAN}&access_token={OPAQUE_TOKEN}",
            request_headers={
                "Authorization": f"Bearer {JWT}",
                "X-Trace": f"card {SPACED_PAN}",
                "X-Api-Key": API_KEY,
            },
            request_body=f'{{"card": {{"number": "{PAN}", "cvv": "{CVV}"}}, "secret": "{WEBHOOK_SECRET}"}}',
            response_headers={"X-Echo": f"client {CLIENT_SECRET}", "Set-Cookie": f"s={OPAQUE_TOKEN}"},
            response_body=f'{{"echo": "{PAN}", "token": "{OPAQUE_TOKEN}", "hint": "{WEBHOOK_SECRET}"}}',
            curl=f"curl -H 'Authorization: Bearer {OPAQUE_TOKEN}' -d 'card.number={PAN}' http://127.0.0.1:8000/pay",
        ),
        exchange(
            url="http://127.0.0.1:8000/token",
            request_headers={"Content-Type": "application/x-www-form-urlencoded"},
            request_body=f"grant_type=client_credentials&client_secret={CLIENT_SECRET}&card.cvv={CVV}",
            response_body=f"<payment><cardNumber>{DASHED_PAN}</cardNumber><cvv>{CVV}</cvv></payment>",
            curl=f"curl -u merchant:{CLIENT_SECRET} --data-urlencode 'cvv={CVV}' http://127.0.0.1:8000/token",
            error=f"the gateway quoted {DASHED_PAN} back",
        ),
        {
            "kind": "webhook",
            "path": "/hook",
            "headers": {"x-signature": "abc", "x-secret": WEBHOOK_SECRET},
            "body": f'{{"pan": "{PAN}", "note": "signed with {WEBHOOK_SECRET}"}}',
            "received_at": 1.0,
            "answer": "200",
            "signature": "valid",
            "label": "",
        },
        {
            "kind": "note",
            "label": "finding: secret echoed",
            "text": f"the gateway echoed {WEBHOOK_SECRET} and {SPACED_PAN} and {CLIENT_SECRET}",
        },
        {
            "kind": "note",
            "label": "a value that turns into a secret when written as JSON",
            "text": "split " + ESCAPED_SECRET.replace("\\n", "\n"),
        },
    ]
    failing = result(
        "PAY-3DS",
        "gustaffo",
        Outcome.FAIL,
        f"expected a masked card, got {PAN} with Bearer {JWT} and cvv={CVV} for {CLIENT_SECRET}",
        evidence=evidence,
    )
    results = replace(all_passing(), "PAY-3DS", "gustaffo", failing)
    run = run_info(harness_errors=(f"paylican: token {OPAQUE_TOKEN} rejected for card {PAN}",))
    return build_readiness(CATALOGUE, results, run)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_report(planted(), tmp_path, run_info().run_id, secrets=SECRETS).run_dir


def written_files(run_dir: Path) -> dict[str, str]:
    files = {
        str(p.relative_to(run_dir)): p.read_text(encoding="utf-8") for p in run_dir.rglob("*") if p.is_file()
    }
    # Every output is here, so a check over them cannot pass by looking at nothing.
    assert {"readiness.json", "readiness.html", "junit.xml"} <= files.keys()
    assert any(name.endswith("-result.json") for name in files)
    assert any(name.endswith("-attachment.json") for name in files)
    return files


def test_planted_secrets_appear_in_no_written_file(run_dir: Path) -> None:
    for name, text in written_files(run_dir).items():
        for secret in PLANTED:
            # As written, and as the HTML and XML writers would escape it.
            for form in {secret, str(html_escape(secret)), xml_escape(secret, {'"': "&quot;"})}:
                assert form not in text, f"{secret[:4]}… leaked into {name}"
        assert not CVV_NEXT_TO_ITS_KEY.search(text), f"a CVV leaked into {name}"
        assert find_leaks(text, SECRETS) == [], name


def test_the_plain_rules_find_nothing_left_to_mask_in_any_file(run_dir: Path) -> None:
    # The redaction before issue 15's fast paths, run over each whole file: what it would still mask was
    # written unmasked.
    for name, text in written_files(run_dir).items():
        assert reference.redact_text(text, SECRETS) == text, name


def test_redaction_keeps_what_the_reader_needs(run_dir: Path) -> None:
    files = written_files(run_dir)
    json_text, html_text, junit_text = files["readiness.json"], files["readiness.html"], files["junit.xml"]

    # A card number is shown as first 6 / last 4, so the reader still sees which test card was used.
    assert "411111******1111" in json_text
    assert "411111******1111" in html_text
    assert "411111******1111" in junit_text
    assert "378282******0005" in json_text
    assert "Bearer ***" in json_text
    attachments = "".join(text for name, text in files.items() if name.endswith("-attachment.json"))
    assert "411111******1111" in attachments


def test_whole_unredacted_outputs_are_masked_as_the_plain_rules_mask_them() -> None:
    # Every output rendered from the document before any redaction: long, many lines, masks, ids, markup.
    document = readiness_to_dict(planted())
    outputs = [
        dumps(document),
        render_html(document),
        render_junit(document),
        *render_allure(document).values(),
    ]
    for text in outputs:
        assert redact_text(text, SECRETS) == reference.redact_text(text, SECRETS)
    assert any(redact_text(text, SECRETS) != text for text in outputs)  # there was something to mask
