"""specs/merchant/openapi.yaml is valid and its examples hold; the reference merchant answers by it; a
target's `merchant:` section is read with its secrets from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from paycert.core.errors import TargetError
from paycert.targets.home import specs_dir
from paycert.targets.spec import ApiSpec
from paycert.targets.target import target_from_data
from tests.merchant.support import create_order

SPEC = specs_dir() / "merchant" / "openapi.yaml"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return document


def _media_types(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            contents = [operation.get("requestBody", {}).get("content", {})]
            contents += [r.get("content", {}) for r in operation["responses"].values()]
            for content in contents:
                found += [(f"{method.upper()} {path} {kind}", media) for kind, media in content.items()]
    return found


def test_the_merchant_spec_is_valid_openapi_31_with_ids_on_every_operation() -> None:
    document = _document()
    validate(document)
    assert document["openapi"] == "3.1.0"
    for operations in document["paths"].values():
        assert all(op.get("operationId") for op in operations.values())


def test_every_example_of_the_merchant_spec_validates_against_its_schema() -> None:
    document = _document()
    checked = 0
    for where, media in _media_types(document):
        schema = {**media["schema"], "components": document["components"]}
        for name, example in (media.get("examples") or {}).items():
            errors = list(jsonschema.Draft202012Validator(schema).iter_errors(example["value"]))
            assert not errors, f"{where} example {name}: {errors[0].message}"
            checked += 1
    assert checked >= 10


def test_the_reference_merchant_answers_as_its_spec_says(sandbox: object) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    spec = ApiSpec.from_location(SPEC)
    created = create_order(base, "paylican")
    assert spec.validate_response("createOrder", 201, "application/json", created) == []
    found = httpx.get(f"{base}/merchant/orders/{created['orderId']}", timeout=10)
    assert spec.validate_response("getOrder", 200, "application/json", found.json()) == []
    missing = httpx.get(f"{base}/merchant/orders/nope", timeout=10)
    assert spec.validate_response("getOrder", 404, "application/json", missing.json()) == []
    bad = httpx.post(f"{base}/merchant/orders", json={"gateway": "gustaffo", "amount": 0, "currency": "EUR"})
    assert bad.status_code == 400
    assert spec.validate_response("createOrder", 400, "application/json", bad.json()) == []


def _target(merchant: dict[str, Any]) -> dict[str, Any]:
    return {
        "gateways": {
            "paylican": {
                "base_url": "http://127.0.0.1:1/paylican",
                "credentials": {"username": "U", "password": "P", "client_id": "C"},
            }
        },
        "merchant": merchant,
    }


ENV = {"U": "u", "P": "p", "C": "c", "SECRET": "merchant-secret-value"}


def test_a_target_names_the_merchants_urls_and_webhook_secrets(tmp_path: Path) -> None:
    target = target_from_data(
        _target(
            {
                "base_url": "http://127.0.0.1:9/shop/",
                "gateways": {
                    "gustaffo": {"webhook_secret": "SECRET", "return_url": "http://127.0.0.1:9/back"}
                },
            }
        ),
        base_dir=tmp_path,
        environ=ENV,
    )
    assert target.merchant is not None
    gustaffo = target.merchant.for_gateway("gustaffo")
    assert gustaffo.webhook_url == "http://127.0.0.1:9/shop/webhooks/gustaffo"
    assert gustaffo.return_url == "http://127.0.0.1:9/back"
    assert gustaffo.webhook_secret == "merchant-secret-value"
    assert target.merchant.for_gateway("paylican").webhook_secret is None
    assert "merchant-secret-value" in target.secrets  # redacted from every artifact


def test_a_merchant_secret_variable_that_is_not_set_is_a_target_error(tmp_path: Path) -> None:
    data = _target(
        {"base_url": "http://127.0.0.1:9/shop", "gateways": {"gustaffo": {"webhook_secret": "NOPE"}}}
    )
    with pytest.raises(TargetError, match="NOPE"):
        target_from_data(data, base_dir=tmp_path, environ=ENV)


def test_a_target_without_a_merchant_has_none(tmp_path: Path) -> None:
    data = _target({"base_url": "http://127.0.0.1:9/shop"})
    del data["merchant"]
    assert target_from_data(data, base_dir=tmp_path, environ=ENV).merchant is None
