"""The must-show: consumer tests write pact files, and pact's verifier passes them against the correct
sandbox and fails them against `--sandbox-fault schema-drift` — through `paycert run` and `paycert verify-pact`
as subprocesses, the way a user or CI runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paycert.redaction import Redactor
from paycert.sandbox.gateways import GATEWAYS
from tests.certification.runs import Run, paycert, shared_paycert

# Slow (whole `paycert run`s); the consumer run is made once per test session.
pytestmark = pytest.mark.slow

GATEWAY_IDS = [g.PREFIX.strip("/") for g in GATEWAYS]


@pytest.fixture(scope="module")
def consumer_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "pact-consumer-run", "run", "--suite", "pacts")


def _pact(run: Run, gid: str) -> Path:
    return run.run_dir / "pacts" / f"merchant-{gid}.json"


def test_the_consumer_suite_writes_a_pact_per_gateway_and_each_is_honoured(consumer_run: Run) -> None:
    assert consumer_run.code == 0, consumer_run.stderr[-2000:]
    assert consumer_run.readiness["verdict"] == "GO"
    assert consumer_run.statuses() == {"CON-PACT": "pass"}
    for gid in GATEWAY_IDS:
        document = json.loads(_pact(consumer_run, gid).read_text())
        assert document["consumer"]["name"] == "merchant"
        assert document["provider"]["name"] == gid
        assert document["metadata"]["pactSpecification"]["version"].startswith("4")
        descriptions = {i["description"] for i in document["interactions"]}
        assert "a status request for a completed payment" in descriptions
        assert "a token request with the merchant's credentials" in descriptions
        webhooks = json.loads(
            (consumer_run.run_dir / "pacts" / "webhooks" / f"merchant-{gid}.json").read_text()
        )
        assert [i["type"] for i in webhooks["interactions"]] == ["Asynchronous/Messages"]


def test_pact_files_hold_no_credential_and_no_card(consumer_run: Run) -> None:
    secrets = [v for g in GATEWAYS for k, v in g.CREDENTIALS.items() if k not in {"member_id", "terminal_id"}]
    redactor = Redactor(secrets)
    for gid in GATEWAY_IDS:
        for path in (
            _pact(consumer_run, gid),
            consumer_run.run_dir / "pacts" / "webhooks" / f"merchant-{gid}.json",
        ):
            assert redactor.leaks(path.read_text()) == [], path


def test_verify_pact_passes_against_the_correct_sandbox(consumer_run: Run, tmp_path: Path) -> None:
    verified = paycert("verify-pact", str(_pact(consumer_run, "txservices")), report_dir=tmp_path)
    assert verified.code == 0, verified.stdout + verified.stderr[-2000:]
    lines = verified.stdout.strip().splitlines()
    assert len(lines) == 4, verified.stdout
    assert all(line.startswith("pass") for line in lines), verified.stdout
    assert verified.statuses() == {"CON-PACT": "pass"}


@pytest.mark.parametrize("gid", ["gustaffo", "paylican"])
def test_verify_pact_fails_against_schema_drift_with_the_verifiers_mismatch(
    consumer_run: Run, tmp_path: Path, gid: str
) -> None:
    drifted = paycert(
        "verify-pact", str(_pact(consumer_run, gid)), "--sandbox-fault", "schema-drift", report_dir=tmp_path
    )
    assert drifted.code == 1, drifted.stdout + drifted.stderr[-2000:]
    failed = [line for line in drifted.stdout.splitlines() if line.startswith("fail")]
    assert any("a status request for a completed payment" in line for line in failed), drifted.stdout
    assert "Actual map is missing the following keys" in drifted.stdout  # pact's verifier, not paycert
    assert drifted.readiness["verdict"] == "NO-GO"
    assert drifted.statuses() == {"CON-PACT": "fail"}
    evidence = json.dumps(drifted.readiness)
    assert "Actual map is missing the following keys" in evidence


def test_verify_pact_cannot_run_on_what_is_not_a_pact(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-pact.json"
    bogus.write_text('{"hello": "world"}')
    refused = paycert("verify-pact", str(bogus), report_dir=tmp_path / "reports")
    assert refused.code == 2
    assert "not a pact file" in refused.last_stderr_line()


def test_the_pact_suite_turns_con_pact_red_on_schema_drift(tmp_path: Path) -> None:
    drifted = paycert("run", "--suite", "pacts", "--sandbox-fault", "schema-drift", report_dir=tmp_path)
    assert drifted.code == 1
    assert drifted.statuses() == {"CON-PACT": "fail"}


def test_verify_pact_cannot_run_against_an_unreachable_gateway(consumer_run: Run, tmp_path: Path) -> None:
    target = tmp_path / "unreachable.yaml"
    target.write_text(
        "name: nowhere\n"
        "gateways:\n"
        "  gustaffo:\n"
        "    base_url: http://127.0.0.1:9/gustaffo\n"
        "    environment: sandbox\n"
        "    credentials: {client_id: PACT_T_CLIENT_ID, client_secret: PACT_T_CLIENT_SECRET}\n"
    )
    env = {"PACT_T_CLIENT_ID": "someone", "PACT_T_CLIENT_SECRET": "not-a-real-secret"}
    refused = paycert(
        "verify-pact",
        str(_pact(consumer_run, "gustaffo")),
        "--target",
        str(target),
        report_dir=tmp_path / "reports",
        env=env,
    )
    assert refused.code == 2, refused.stdout + refused.stderr
    assert "127.0.0.1:9" in refused.last_stderr_line()
    assert refused.readiness["verdict"] != "GO"


def test_verify_pact_does_not_pass_a_message_pact_it_cannot_feed(consumer_run: Run, tmp_path: Path) -> None:
    webhooks = consumer_run.run_dir / "pacts" / "webhooks" / "merchant-paylican.json"
    unfed = paycert("verify-pact", str(webhooks), report_dir=tmp_path)
    assert unfed.code == 2, unfed.stdout + unfed.stderr
    assert unfed.stdout.startswith("not_evaluated"), unfed.stdout
    assert unfed.statuses() == {"CON-PACT": "not_evaluated"}
