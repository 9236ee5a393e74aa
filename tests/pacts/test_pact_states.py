"""The sandbox's provider-state endpoint, verification of a target that has none, and message verification."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from paycert.core.results import Outcome
from paycert.core.states import PaymentState
from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder
from paycert.pacts.consumer import WEBHOOK_NEED, merchant_pact, webhook_pact
from paycert.pacts.needs import COMPLETED_STATE, GATEWAY_STATES
from paycert.pacts.verify import verify_pact
from paycert.redaction import Redactor
from paycert.sandbox import SandboxServer
from paycert.sandbox.gateways import GATEWAYS
from paycert.targets.profile import load_profile
from paycert.targets.target import GatewayTarget, target_from_data

GATEWAY_IDS = [g.PREFIX.strip("/") for g in GATEWAYS]


def _target(base_url: str, gid: str, *, control: bool) -> GatewayTarget:
    module = next(g for g in GATEWAYS if g.PREFIX.strip("/") == gid)
    environ = {f"PACT_TEST_{gid}_{name}".upper(): value for name, value in module.CREDENTIALS.items()}
    entry: dict[str, object] = {
        "base_url": f"{base_url}/{gid}",
        "environment": "sandbox",
        "credentials": {name: f"PACT_TEST_{gid}_{name}".upper() for name in module.CREDENTIALS},
    }
    if control:
        entry["control_url"] = f"{base_url}/_sandbox"
    raw = {"name": "pact test", "gateways": {gid: entry}}
    return target_from_data(raw, base_dir=Path.cwd(), environ=environ).gateways[gid]


@pytest.mark.parametrize("gid", GATEWAY_IDS)
def test_the_state_endpoint_makes_a_completed_payment_the_gateway_reports(
    sandbox: SandboxServer, gid: str
) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/pact/{gid}/state",
        json={"state": COMPLETED_STATE, "action": "setup", "params": {"amount": "10.00", "currency": "EUR"}},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    payment_id = answer.json()["payment_id"]
    client = GatewayClient(_target(sandbox.base_url, gid, control=True), Recorder(Redactor()))
    try:
        read = client.call("get_payment", {"payment_id": payment_id})
    finally:
        client.close()
    assert read.ok, read.error_text()
    assert client.profile.state_of(read.get("status")) is PaymentState.COMPLETED


def test_unknown_states_and_gateways_are_refused_by_name(sandbox: SandboxServer) -> None:
    unknown_state = httpx.post(
        f"{sandbox.base_url}/_sandbox/pact/gustaffo/state", json={"state": "the moon is full"}, timeout=10
    )
    assert unknown_state.status_code == 404
    assert "the moon is full" in unknown_state.text
    unknown_gateway = httpx.post(
        f"{sandbox.base_url}/_sandbox/pact/acme/state", json={"state": COMPLETED_STATE}, timeout=10
    )
    assert unknown_gateway.status_code == 404


def test_teardown_answers_nothing(sandbox: SandboxServer) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/pact/paylican/state",
        json={"state": COMPLETED_STATE, "action": "teardown", "params": {}},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json() == {}


def test_without_a_state_endpoint_only_state_free_interactions_are_verified(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    pact = merchant_pact(load_profile("gustaffo"))
    pact.write_file(tmp_path, overwrite=True)
    target = _target(sandbox.base_url, "gustaffo", control=False)
    verification = verify_pact(tmp_path / "merchant-gustaffo.json", target)
    by_outcome: dict[Outcome, list[str]] = {}
    for interaction in verification.interactions:
        by_outcome.setdefault(interaction.outcome, []).append(interaction.description)
        if set(interaction.states) & GATEWAY_STATES or interaction.outcome is Outcome.NOT_EVALUATED:
            assert interaction.outcome is Outcome.NOT_EVALUATED
            assert "no provider-state endpoint" in interaction.detail
    assert len(by_outcome[Outcome.PASS]) == 2  # the token and the create request
    assert len(by_outcome[Outcome.NOT_EVALUATED]) == 2  # the status read and the refund
    assert verification.outcome is Outcome.NOT_EVALUATED  # never a pass


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        (
            b'{"id": "evt_1", "event": "payment.completed", "data": {"paymentId": "p1", "status": "COMPLETED", '
            b'"amount": 10.0}}',
            Outcome.PASS,
        ),
        (
            b'{"id": "evt_1", "event": "payment.completed", "data": {"status": "COMPLETED", "amount": 10.0}}',
            Outcome.FAIL,
        ),
        (
            b'{"id": "evt_1", "event": "payment.failed", "data": {"paymentId": "p1", "status": "FAILED", '
            b'"amount": 10.0}}',
            Outcome.FAIL,
        ),
    ],
    ids=["completion", "no-payment-id", "a-failure-instead"],
)
def test_a_captured_webhook_is_verified_against_the_message_pact(
    sandbox: SandboxServer, tmp_path: Path, body: bytes, verdict: Outcome
) -> None:
    pact = webhook_pact(load_profile("gustaffo"))
    pact.write_file(tmp_path, overwrite=True)
    target = _target(sandbox.base_url, "gustaffo", control=True)
    verification = verify_pact(tmp_path / "merchant-gustaffo.json", target, messages={WEBHOOK_NEED: body})
    assert [i.outcome for i in verification.interactions] == [verdict]
    if verdict is Outcome.FAIL:
        assert (
            "$.data" in verification.interactions[0].detail
            or "$.event" in verification.interactions[0].detail
        )


def test_a_message_nobody_captured_is_not_evaluated(sandbox: SandboxServer, tmp_path: Path) -> None:
    webhook_pact(load_profile("paylican")).write_file(tmp_path, overwrite=True)
    target = _target(sandbox.base_url, "paylican", control=True)
    verification = verify_pact(tmp_path / "merchant-paylican.json", target)
    assert verification.outcome is Outcome.NOT_EVALUATED
    assert "no such message" in verification.interactions[0].detail


def test_webhook_field_types_come_from_the_schema_when_it_has_no_example() -> None:
    from paycert.pacts.consumer import typed_example

    schema = {
        "type": "object",
        "properties": {
            "data": {"$ref": "#/$defs/data"},
            "kind": {"enum": ["payment.completed", "payment.failed"]},
        },
        "$defs": {
            "data": {
                "type": "object",
                "properties": {"amount": {"type": "integer"}, "id": {"type": ["string", "null"]}},
            }
        },
    }

    assert typed_example(schema, "/data/amount") == 1
    assert typed_example(schema, "/data/id") == "x"
    assert typed_example(schema, "/kind") == "payment.completed"
    assert typed_example(schema, "/data/missing") is None


def test_webhook_field_types_are_found_in_the_event_shapes_of_a_one_of() -> None:
    from paycert.pacts.consumer import typed_example

    schema = {
        "oneOf": [{"$ref": "#/components/schemas/Refund"}, {"$ref": "#/components/schemas/Session"}],
        "components": {
            "schemas": {
                "Refund": {"properties": {"data": {"properties": {"amount": {"type": "integer"}}}}},
                "Session": {"properties": {"data": {"properties": {"amount_total": {"type": "integer"}}}}},
            }
        },
    }

    assert typed_example(schema, "/data/amount_total") == 1
