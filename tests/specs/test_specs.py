"""Every built-in spec is valid OpenAPI, every example in it validates, every profile fits its spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

SPECS = Path(__file__).resolve().parents[2] / "specs"
GATEWAYS = sorted(p.parent.name for p in SPECS.glob("*/profile.yaml"))
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def load_spec(gateway: str) -> dict[str, Any]:
    return yaml.safe_load((SPECS / gateway / "openapi.yaml").read_text(encoding="utf-8"))


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local $refs so an example can be checked against a self-contained schema."""
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/"):
            target: Any = spec
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(spec, target)
        return {k: resolve(spec, v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(spec, v) for v in node]
    return node


def media_examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example of every request and response body."""
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            bodies = []
            if "requestBody" in op:
                bodies.append(("request", resolve(spec, op["requestBody"])))
            for code, response in op.get("responses", {}).items():
                bodies.append((code, resolve(spec, response)))
            for label, body in bodies:
                for media, content in body.get("content", {}).items():
                    schema = content.get("schema")
                    if schema is None:
                        continue
                    where = f"{method.upper()} {path} {label} {media}"
                    if "example" in content:
                        yield where, schema, content["example"]
                    for name, example in content.get("examples", {}).items():
                        yield f"{where} example {name}", schema, resolve(spec, example).get("value")


def test_every_builtin_gateway_has_a_spec_and_profile() -> None:
    assert GATEWAYS == ["gustaffo", "paylican", "txservices"]


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_spec_is_valid_openapi_31(gateway: str) -> None:
    spec = load_spec(gateway)
    assert str(spec["openapi"]).startswith("3.1")
    validate(spec)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_every_operation_has_an_id_and_documented_errors(gateway: str) -> None:
    spec = load_spec(gateway)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            assert op.get("operationId"), f"{method.upper()} {path} has no operationId"
            codes = set(op["responses"])
            assert any(c.startswith(("4", "5")) for c in codes), f"{op['operationId']} documents no error"


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_spec_examples_validate_against_their_schemas(gateway: str) -> None:
    spec = load_spec(gateway)
    checked = 0
    for where, schema, example in media_examples(spec):
        if (schema.get("type") == "string" and schema.get("format") == "binary") or "xml" in where:
            continue
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(example))
        assert not errors, f"{gateway} {where}: {errors[0].message}"
        checked += 1
    assert checked >= 5, f"{gateway}: only {checked} examples found; every operation needs examples"


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_json_schemas_are_2020_12_and_their_examples_validate(gateway: str) -> None:
    files = sorted((SPECS / gateway / "schemas").glob("*.json"))
    assert files, f"{gateway} has no JSON Schemas"
    for file in files:
        schema = json.loads(file.read_text(encoding="utf-8"))
        assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema", file.name
        jsonschema.Draft202012Validator.check_schema(schema)
        examples = schema.get("examples", [])
        assert examples, f"{file.name} has no examples"
        for example in examples:
            jsonschema.Draft202012Validator(schema).validate(example)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_profile_validates_and_names_only_operations_of_its_spec(gateway: str) -> None:
    schema = json.loads((SPECS / "profile.schema.json").read_text(encoding="utf-8"))
    profile = yaml.safe_load((SPECS / gateway / "profile.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(profile)
    spec = load_spec(gateway)
    operation_ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS
    }
    named = [op["operation_id"] for op in profile["operations"].values()]
    if "operation" in profile["auth"]:
        named.append(profile["auth"]["operation"]["operation_id"])
    missing = sorted(set(named) - operation_ids)
    assert not missing, f"{gateway} profile names operations its spec lacks: {missing}"
    for relative in [profile["spec"], *profile.get("schemas", {}).values()]:
        assert (SPECS / gateway / relative).is_file(), relative


def test_a_broken_profile_is_rejected_by_the_schema() -> None:
    # The schema must be able to fail: a profile with an unknown canonical state does not validate.
    schema = json.loads((SPECS / "profile.schema.json").read_text(encoding="utf-8"))
    profile = yaml.safe_load((SPECS / "gustaffo" / "profile.yaml").read_text(encoding="utf-8"))
    profile["statuses"] = {"PAID": "SETTLED_SOMEHOW"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(profile)
