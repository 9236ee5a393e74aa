"""`paycert replay`: a gustaffo completion the sandbox really sent, captured by paycert's sink into a report
written by paycert's report writer, is sent again to the reference merchant and fulfils its order once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from paycert.cli.main import app
from paycert.core.criteria import Catalogue
from paycert.core.evidence import WebhookCapture, webhook_capture_id
from paycert.core.results import Outcome, TestResult
from paycert.redaction import Redactor
from paycert.report import GatewayInfo, RunInfo, Selection, build_readiness, write_report
from paycert.report.writer import write_results
from paycert.sandbox.gateways import gustaffo
from paycert.sandbox.merchant import WEBHOOK_SECRETS
from paycert.shopper import Card, HttpShopper, PageSpec
from paycert.targets.home import specs_dir
from paycert.targets.profile import load_profile
from paycert.webhooks.sink import WebhookSink
from tests.merchant.support import create_order, order

runner = CliRunner()
SECRET_VARIABLE = "PAYCERT_GUSTAFFO_WEBHOOK_SECRET"
RUN_ID = "20261206T120000Z-r3p1"


@dataclass(frozen=True)
class Captured:
    base: str
    run_dir: Path
    event_id: str
    order_id: str
    registration_secret: str


@pytest.fixture
def captured(sandbox: object, tmp_path: Path) -> Captured:
    """A merchant order paid on gustaffo's hosted page; its payment.completed as paycert's report holds it."""
    base: str = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, "gustaffo")
    with WebhookSink() as sink, httpx.Client(base_url=base + gustaffo.PREFIX, timeout=10) as api:
        token = api.post("/oauth/token", data={"grant_type": "client_credentials", **gustaffo.CREDENTIALS})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        registered = api.post(
            "/api/v1/webhooks",
            json={"url": f"{sink.url}/gustaffo", "events": ["payment.completed"]},
            headers=auth,
        ).json()
        profile = load_profile("gustaffo")
        card = profile.raw["cards"]["success"]
        with HttpShopper() as shopper:
            shopper.pay(
                created["paymentUrl"],
                Card(card["number"], card["expiry_month"], card["expiry_year"], card["cvv"], card["holder"]),
                PageSpec.from_profile(profile.shopper),
                return_prefix=f"{base}/merchant/return/gustaffo",  # stops there: the merchant is not told
            )
        delivery = sink.wait_for(1, timeout=20)[0]
    # As a run records it (plugin/inbox.py): redacted with the run's secrets, then written by the report.
    redactor = Redactor([registered["secret"]])
    body = redactor.text(delivery.body.decode())
    capture = WebhookCapture(
        path=delivery.path,
        headers=redactor.headers(delivery.headers),
        body=body,
        received_at=delivery.received_at,
        answer=delivery.answer,
        label="webhook payment.completed",
        id=webhook_capture_id(delivery.path, delivery.received_at, body),
    )
    result = TestResult(
        "suites/scenarios/test_pay.py::test_paid[gustaffo]", ("PAY-SUCCESS",), "gustaffo", Outcome.PASS,
        evidence=[capture.to_dict()], checks=1,
    )  # fmt: skip
    run = RunInfo(
        RUN_ID, "2026-12-06T12:00:00Z", "2026-12-06T12:00:05Z", gateways=(GatewayInfo("gustaffo"),),
        selection=Selection(criteria=("PAY-SUCCESS",)), in_scope=("PAY-SUCCESS",),
    )  # fmt: skip
    catalogue = Catalogue.from_path(specs_dir() / "readiness.yaml")
    write_results(tmp_path / "reports" / RUN_ID, [result])
    write_report(
        build_readiness(catalogue, [result], run),
        tmp_path / "reports",
        RUN_ID,
        secrets=[registered["secret"]],
    )
    return Captured(base, tmp_path / "reports" / RUN_ID, capture.id, created["orderId"], registered["secret"])


def replay(
    captured: Captured, *args: str, secret: str | None = WEBHOOK_SECRETS["gustaffo"]
) -> tuple[int, str]:
    env = {SECRET_VARIABLE: secret, "PAYCERT_WEBHOOK_SECRET": None}
    outcome = runner.invoke(app, ["replay", str(captured.run_dir), *args], env=env)
    return outcome.exit_code, outcome.output


def test_a_replayed_completion_is_accepted_once_and_its_duplicate_fulfils_nothing(captured: Captured) -> None:
    to = f"{captured.base}/merchant/webhooks/gustaffo"
    assert captured.event_id in (captured.run_dir / "readiness.html").read_text()  # the id the report shows
    assert order(captured.base, captured.order_id)["fulfilments"] == 0

    # As captured, it carries the gateway registration's signature: the merchant's secret is another.
    code, output = replay(captured, captured.event_id, "--to", to)
    assert (code, order(captured.base, captured.order_id)["status"]) == (1, "PENDING"), output
    assert "as captured" in output
    assert "HTTP 400" in output

    code, output = replay(captured, captured.event_id, "--to", to, "--resign")
    assert code == 0, output
    assert "re-signed (sha256-secret-body)" in output
    assert "HTTP 200" in output
    found = order(captured.base, captured.order_id)
    assert (found["status"], found["fulfilments"]) == ("PAID", 1)

    code, output = replay(captured, captured.event_id, "--to", to, "--resign")
    assert code == 0, output
    assert order(captured.base, captured.order_id)["fulfilments"] == 1
    for secret in (WEBHOOK_SECRETS["gustaffo"], captured.registration_secret):
        assert secret not in output
        assert secret not in (captured.run_dir / "readiness.json").read_text()


@pytest.mark.parametrize(
    ("args", "secret", "says"),
    [
        (("wh_000000000000",), "x" * 16, "no captured webhook 'wh_000000000000' in this run (it has wh_"),
        (
            (),
            None,
            f"--resign needs the merchant's webhook secret in {SECRET_VARIABLE} or PAYCERT_WEBHOOK_SECRET",
        ),
        (("--to", "http://127.0.0.1:9/merchant/webhooks/gustaffo"), "x" * 16, "did not answer"),
        (("--to", "ftp://127.0.0.1/x"), "x" * 16, "an http:// or https:// URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    captured: Captured, args: tuple[str, ...], secret: str | None, says: str
) -> None:
    event = args[0] if args and args[0].startswith("wh_") else captured.event_id
    rest = [a for a in args if not a.startswith("wh_")]
    to = [] if "--to" in rest else ["--to", f"{captured.base}/merchant/webhooks/gustaffo"]
    code, output = replay(captured, event, *to, *rest, "--resign", secret=secret)
    assert code == 2
    assert output.count("\n") == 1, output
    assert output.startswith("paycert replay: "), output
    assert says in output, output


def test_a_redacted_body_is_refused_unless_resigned(captured: Captured, tmp_path: Path) -> None:
    readiness = captured.run_dir / "readiness.json"
    # A body the report had to mask (a card number in it, say): its captured signature cannot match any more.
    readiness.write_text(
        readiness.read_text().replace(
            '\\"orderId\\":', '\\"cardNumber\\":\\"411111******1111\\",\\"orderId\\":', 1
        )
    )
    to = f"{captured.base}/merchant/webhooks/gustaffo"
    code, output = replay(captured, captured.event_id, "--to", to)
    assert code == 2, output
    assert "redacted /data/cardNumber" in output, output
    assert "--resign" in output, output
    code, output = replay(captured, captured.event_id, "--to", to, "--resign")
    assert code == 0
    assert "note: sent with what the report redacted still masked: /data/cardNumber" in output


def test_a_folder_that_is_no_run_is_one_line(tmp_path: Path) -> None:
    outcome = runner.invoke(app, ["replay", str(tmp_path), "wh_x", "--to", "http://127.0.0.1:9/"])
    assert outcome.exit_code == 2
    assert (
        outcome.output.strip()
        == f"paycert replay: {tmp_path}: no readiness.json: not the folder of a finished run"
    )
