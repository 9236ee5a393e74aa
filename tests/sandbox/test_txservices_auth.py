"""txservices authentication: the authToken endpoint and the `authtoken` header on every operation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from paycert.sandbox import SandboxServer
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import Tx


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def _claims(token: str) -> dict[str, int]:
    payload = token.split(".")[1]
    claims: dict[str, int] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_the_token_is_a_jwt_valid_for_one_hour(tx: Tx) -> None:
    response = tx.token_response()

    assert response.status_code == 200
    body = response.json()
    assert body["result"]["code"] == "00001"
    assert body["expiresIn"] == 3600
    claims = _claims(body["AuthToken"])
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize("field", ["authentication.partnerId", "merchant.username", "authentication.sKey"])
def test_wrong_credentials_get_401_with_a_clear_error(tx: Tx, field: str) -> None:
    response = tx.token_response(**{field: "wrong"})

    assert response.status_code == 401
    body = response.json()
    assert body["result"]["code"] == "10101"
    assert "Authentication failed" in body["result"]["description"]
    assert "AuthToken" not in body


def test_an_operation_without_authtoken_is_rejected(tx: Tx) -> None:
    response = tx.http.post(f"{tx.api}/payments", data=tx.payment_body())

    assert response.status_code == 401
    assert response.json()["result"] == {
        "code": "10102",
        "description": "Unauthorized: the authtoken header is missing",
    }


def test_a_forged_token_is_rejected(tx: Tx) -> None:
    token = tx.token()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    response = tx.http.get(f"{tx.api}/payments/123", headers={"authtoken": forged})

    assert response.status_code == 401
    assert response.json()["result"]["code"] == "10102"


def test_the_token_expires_after_one_hour_on_the_test_clock(tx: Tx) -> None:
    assert tx.create(tx.payment_body()).status_code == 200

    tx.advance(3601)

    response = tx.create(tx.payment_body())
    assert response.status_code == 401
    assert "expired" in response.json()["result"]["description"]


def test_fault_no_auth_lets_operations_through_without_token(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("no-auth").base_url)
    try:
        response = tx.http.post(f"{tx.api}/payments", data=tx.payment_body())
        assert response.status_code == 200, response.text
        assert response.json()["transactionStatus"] == "Y"
        # The token endpoint itself still checks the credentials.
        assert tx.token_response(**{"authentication.sKey": "wrong"}).status_code == 401
    finally:
        tx.close()
