"""Property tests of the signature schemes, driven by bodies generated from each gateway's webhook schema.

`paycert.webhooks.strategies` turns specs/<id>/schemas/webhook.json into a strategy of schema-valid bodies
(hypothesis-jsonschema); every scheme must verify what it signed, and refuse the same body once a byte of it or
the secret changes. The merchant suite draws its forged webhooks from the same strategies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.strategies import webhook_bodies

SPECS = Path(__file__).resolve().parents[2] / "specs"
GATEWAYS = sorted(p.parent.parent.name for p in SPECS.glob("*/schemas/webhook.json"))
BODY_SCHEMES = ("sha256-secret-body", "hmac-sha256-hex", "stripe", "standard-webhooks")


def _own_scheme(gateway: str) -> str:
    profile = yaml.safe_load((SPECS / gateway / "profile.yaml").read_text())
    return str(profile["webhooks"]["signature"]["scheme"])


# Every whole-body scheme on every gateway's bodies, plus each gateway's own scheme (md5 needs its fields).
CASES = sorted(
    {(g, s) for g in GATEWAYS for s in BODY_SCHEMES}
    | {(g, _own_scheme(g)) for g in GATEWAYS if _own_scheme(g) != "none"}
)
SECRET = "whsec_cHJvcGVydHktdGVzdC1zZWNyZXQ="  # valid for every scheme (Standard Webhooks wants base64)
OTHER_SECRET = "whsec_b3RoZXItcHJvcGVydHktc2VjcmV0"
NOW = 1_800_000_000


def webhook_schema(gateway: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SPECS / gateway / "schemas" / "webhook.json").read_text())
    return schema


@pytest.mark.parametrize(("gateway", "scheme_name"), CASES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_signed_body_verifies_and_a_tampered_one_does_not(
    gateway: str, scheme_name: str, data: st.DataObject
) -> None:
    body = data.draw(webhook_bodies(webhook_schema(gateway)), label="body")
    scheme = get_scheme(scheme_name)
    signed = scheme.sign(SECRET, body, msg_id="msg_property", timestamp=NOW)
    assert scheme.verify(SECRET, signed.body, signed.headers, now=NOW).ok

    assert not scheme.verify(OTHER_SECRET, signed.body, signed.headers, now=NOW).ok, "a wrong secret verified"
    tampered = _tamper(signed.body, scheme_name)
    if tampered != signed.body:
        assert not scheme.verify(SECRET, tampered, signed.headers, now=NOW).ok, "a tampered body verified"


def _tamper(body: bytes, scheme_name: str) -> bytes:
    """Change what the scheme signs: a byte for whole-body schemes, a signed field for the md5 checksum."""
    if scheme_name != "md5-callback-checksum":
        return body + b" "
    document = json.loads(body)
    if not isinstance(document, dict):
        return body
    for field in ("amount", "transactionStatus", "paymentId", "merchantTransactionId"):
        if field in document:
            document[field] = f"{document[field]}0"
            return json.dumps(document).encode()
    return body


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_schema_examples_are_drawn_bodies_too(gateway: str) -> None:
    # The strategy must accept what the spec documents, or the properties above prove nothing about it.
    import jsonschema

    schema = webhook_schema(gateway)
    validator = jsonschema.Draft202012Validator(schema)
    assert schema.get("examples"), f"{gateway}: webhook.json has no examples"
    for example in schema["examples"]:
        assert not list(validator.iter_errors(example))
