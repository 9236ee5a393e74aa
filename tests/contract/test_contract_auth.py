"""CON-AUTH on specs as vendors write them: OAuth2-only security, unused schemes, static headers.

Each test runs the real contract engine (schemathesis) against a real mock on loopback
(tests/contract/orders_mock.py) and reads the per-criterion results the contract suite would record.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from paycert.core.results import Outcome
from tests.certification.runs import assert_no_leaks, paycert
from tests.contract.loopback import certify, serve
from tests.contract.orders_mock import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    OrdersMock,
    create_app,
    orders_spec,
)

CLIENT = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
AUTH = "CON-AUTH"


@pytest.fixture
def enforcing() -> Iterator[tuple[OrdersMock, str]]:
    mock = OrdersMock(enforce=True)
    with serve(create_app(mock)) as url:
        yield mock, f"{url}/v2"


@pytest.fixture
def ignoring() -> Iterator[tuple[OrdersMock, str]]:
    mock = OrdersMock(enforce=False)
    with serve(create_app(mock)) as url:
        yield mock, f"{url}/v2"


def test_oauth2_only_spec_fails_con_auth_when_the_mock_serves_unauthenticated_calls(
    ignoring: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    mock, base = ignoring
    certified = certify(orders_spec(), base, tmp_path, credentials=CLIENT)
    assert mock.tokens, "paycert fetched no token from the spec's tokenUrl"
    assert certified.outcome(AUTH) is Outcome.FAIL, certified.reasons(AUTH)
    failed = next(r for r in certified.recorded(AUTH) if r.outcome is Outcome.FAIL)
    assert "without authentication" in failed.reason or "invalid authentication" in failed.reason, (
        failed.reason
    )
    curls = [e["curl"] for e in failed.evidence if e.get("kind") == "exchange"]
    assert curls, "the finding has no request to reproduce it"
    assert not any(token in str(failed.evidence) for token in mock.tokens), (
        "the fetched token reached the report"
    )


def test_oauth2_only_spec_passes_con_auth_when_the_mock_enforces_its_token(
    enforcing: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    mock, base = enforcing
    certified = certify(orders_spec(), base, tmp_path, credentials=CLIENT)
    assert certified.outcome(AUTH) is Outcome.PASS, certified.reasons(AUTH)
    passed = next(r for r in certified.recorded(AUTH) if r.outcome is Outcome.PASS)
    assert passed.checks >= 1
    # The probes really went out: without the token, and with a wrong one, and both were refused.
    sent = [h.get("authorization") for method, path, h in mock.requests if path.startswith("/v2/orders")]
    assert None in sent
    assert any(value and value.startswith("Bearer ") and value[7:] not in mock.tokens for value in sent)
    # With the token, valid data was accepted: nothing else is blamed on the mock for paycert's credentials.
    assert certified.outcome("CON-POSITIVE") is Outcome.PASS, certified.reasons("CON-POSITIVE")


def test_password_flow_gets_its_token_with_the_targets_username_and_password(
    enforcing: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    mock, base = enforcing
    flows = {"password": {"tokenUrl": "/v1/oauth2/token", "scopes": {}}}  # relative: to the base URL's host
    certified = certify(
        orders_spec(flows), base, tmp_path, credentials={"username": USERNAME, "password": PASSWORD}
    )
    assert mock.tokens
    assert certified.outcome(AUTH) is Outcome.PASS, certified.reasons(AUTH)


def test_a_scheme_paycert_cannot_apply_is_not_evaluated_with_the_reason_never_a_pass(
    ignoring: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    _, base = ignoring
    flows = {"authorizationCode": {"authorizationUrl": "/authorize", "tokenUrl": "/token", "scopes": {}}}
    certified = certify(orders_spec(flows), base, tmp_path, credentials=CLIENT)
    assert certified.outcome(AUTH) is Outcome.NOT_EVALUATED
    assert "authorizationCode" in certified.reasons(AUTH), certified.reasons(AUTH)
    assert set(certified.run.blocked) == {"POST /orders", "GET /orders/{orderId}"}
    # The operation that needs no credentials is still tested; none of the blocked ones passes anything.
    assert "GET /health" in certified.run.tested
    assert Outcome.PASS not in {r.outcome for r in certified.results.recorded if r.criteria[0] == AUTH}


def test_token_endpoint_that_fails_says_what_it_answered(tmp_path: Path) -> None:
    mock = OrdersMock(token_status=500)
    with serve(create_app(mock)) as url:
        certified = certify(orders_spec(), f"{url}/v2", tmp_path, credentials=CLIENT)
    assert certified.outcome(AUTH) is Outcome.NOT_EVALUATED
    assert "answered HTTP 500" in certified.reasons(AUTH), certified.reasons(AUTH)


def test_missing_oauth2_credentials_are_named(ignoring: tuple[OrdersMock, str], tmp_path: Path) -> None:
    _, base = ignoring
    certified = certify(orders_spec(), base, tmp_path, credentials={"client_id": CLIENT_ID})
    assert certified.outcome(AUTH) is Outcome.NOT_EVALUATED
    assert "client_secret" in certified.reasons(AUTH), certified.reasons(AUTH)


def test_static_headers_are_sent_as_written_and_unused_schemes_swallow_nothing(
    enforcing: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    """Square's spec: OAuth2 in use, plus an unused apiKey scheme on header `Authorization` (and a digest one)."""
    mock, base = enforcing
    token = "static-token-0123456789"
    mock.tokens.add(token)  # a token the target got elsewhere, given as its header
    headers = {"Authorization": f"Bearer {token}", "Square-Version": "2024-01-18"}
    spec = orders_spec(
        legacy={"type": "apiKey", "in": "header", "name": "Authorization"},
        digest={"type": "http", "scheme": "digest"},
    )
    certified = certify(spec, base, tmp_path, headers=headers)
    received = [h for method, path, h in mock.requests if path.startswith("/v2/")]
    assert received
    assert all(h.get("square-version") == "2024-01-18" for h in received)
    as_written = [h for h in received if h.get("authorization") == f"Bearer {token}"]
    assert len(as_written) >= len(received) / 2, "the target's Authorization header was not sent"
    # The public operation (no security) gets the target's headers too, exactly as written.
    health = [h for method, path, h in mock.requests if path == "/v2/health" and method == "GET"]
    assert health
    assert all(h.get("authorization") == f"Bearer {token}" for h in health)
    assert certified.outcome(AUTH) is Outcome.PASS, certified.reasons(AUTH)
    assert certified.outcome("CON-POSITIVE") is Outcome.PASS, certified.reasons("CON-POSITIVE")
    assert not certified.run.blocked


def test_basic_auth_header_becomes_the_basic_schemes_credential(
    enforcing: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    """An http basic scheme in use takes the target's `Authorization: Basic` header, byte for byte."""
    mock, base = enforcing
    spec = orders_spec()
    spec["components"]["securitySchemes"] = {"basic": {"type": "http", "scheme": "basic"}}
    spec["security"] = [{"basic": []}]
    value = "Basic " + base64.b64encode(b"user:pass").decode()
    mock.enforce = False
    certify(spec, base, tmp_path, headers={"Authorization": value})
    sent = {h.get("authorization") for method, path, h in mock.requests if path.startswith("/v2/orders")}
    assert value in sent


@pytest.mark.slow
def test_paycert_run_takes_oauth2_credentials_and_the_operation_filter_from_the_target(
    ignoring: tuple[OrdersMock, str], tmp_path: Path
) -> None:
    """The same through `paycert run`: the target names the credentials' variables and limits the operations."""
    mock, base = ignoring
    spec = tmp_path / "orders.yaml"
    spec.write_text(yaml.safe_dump(orders_spec()), encoding="utf-8")
    target = tmp_path / "target.yaml"
    entry = {
        "spec": str(spec),
        "base_url": base,
        "credentials": {"client_id": "ORDERS_CLIENT_ID", "client_secret": "ORDERS_CLIENT_SECRET"},
        "contract": {"tags": ["orders"]},  # not `GET /health` (tag `ops`)
    }
    target.write_text(yaml.safe_dump({"name": "orders", "gateways": {"orders": entry}}), encoding="utf-8")
    run = paycert(
        "run",
        "--target",
        str(target),
        "--suite",
        "contract",
        "--contract-budget",
        "60",
        report_dir=tmp_path / "reports",
        env={"ORDERS_CLIENT_ID": CLIENT_ID, "ORDERS_CLIENT_SECRET": CLIENT_SECRET},
    )
    statuses = run.statuses()
    assert statuses.get(AUTH) == "fail", (statuses, run.stderr[-2000:])
    assert run.readiness["verdict"] == "NO-GO"
    assert mock.tokens, "no token was fetched with the target's credentials"
    tested = {(method, path) for method, path, _ in mock.requests if "probe" not in path}
    assert not [t for t in tested if t[1] == "/v2/health"], "an operation the filter leaves out was tested"
    assert ("POST", "/v2/orders") in tested
    row = next(c for c in run.readiness["criteria"] if c["id"] == AUTH)
    notes = [
        e["text"]
        for g in row["gateways"].values()
        for t in g["tests"]
        for e in t["evidence"]
        if e.get("label") == "contract run"
    ]
    assert any("limited by the target to" in n for n in notes), notes
    assert_no_leaks(run.run_dir)
    for token in mock.tokens:
        assert token not in json.dumps(run.readiness), "the fetched token reached the report"
