"""The txservices sandbox answers what specs/txservices says: responses, callbacks and the return query are
validated against the spec's schemas, so a drift on either side fails here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from paycert.sandbox import SandboxServer
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import (
    ACS_PASSWORD,
    MASTERCARD_3DS,
    VISA,
    Tx,
    return_query,
    submit_page,
)

SPECS = Path(__file__).resolve().parents[2] / "specs" / "txservices"
SPEC = yaml.safe_load((SPECS / "openapi.yaml").read_text(encoding="utf-8"))
_REGISTRY = Registry().with_resource(
    "urn:txservices", Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


def component(name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"urn:txservices#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(
        schema, registry=_REGISTRY, format_checker=jsonschema.FormatChecker()
    )


def json_schema(file: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SPECS / "schemas" / file).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def errors_of(validator: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def test_payment_answers_match_the_payment_schema(tx: Tx) -> None:
    payment = component("Payment")
    debit = tx.pay(VISA, createRegistration="true")
    challenged = tx.pay(MASTERCARD_3DS, payment_type="PA")
    captured = tx.operate(tx.pay(VISA, payment_type="PA")["paymentId"], "CP", "5.00").json()
    inquiry = tx.status(debit["paymentId"]).json()

    for document in (debit, challenged, captured, inquiry):
        assert errors_of(payment, document) == []


def test_error_answers_match_the_error_schemas(tx: Tx) -> None:
    bad_amount = tx.create(tx.payment_body(amount="0.00")).json()
    no_token = tx.http.post(f"{tx.api}/payments", data=tx.payment_body()).json()
    bad_login = tx.token_response(**{"authentication.sKey": "x"}).json()

    for document in (bad_amount, no_token, bad_login):
        assert errors_of(component("Error"), document) == []
        assert errors_of(json_schema("error.json"), document) == []


def test_token_answer_matches_its_schema(tx: Tx) -> None:
    assert errors_of(component("TokenResponse"), tx.token_response().json()) == []


def test_callbacks_and_the_return_query_match_their_schemas(tx: Tx) -> None:
    with WebhookSink() as sink:
        payment = tx.pay(MASTERCARD_3DS, notificationUrl=sink.url)
        answer = submit_page(tx, payment["redirect"]["url"], "pay", password=ACS_PASSWORD)
        [delivery] = sink.wait_for(1, timeout=5)

    assert errors_of(json_schema("webhook.json"), delivery.json()) == []
    assert errors_of(component("Callback"), delivery.json()) == []
    assert errors_of(json_schema("return-query.json"), return_query(answer)) == []


def test_fault_schema_drift_breaks_the_payment_schema(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("schema-drift").base_url)
    try:
        assert errors_of(component("Payment"), tx.pay(VISA)) != []
    finally:
        tx.close()
