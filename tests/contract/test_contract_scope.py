"""What the contract run tests: the target's operation filter, unfetchable external `$ref`s named, and a
stateful criterion that is not applicable (not passed) on a spec without links."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from paycert.core.results import Outcome
from paycert.targets.contract_filter import OperationFilter
from tests.contract.loopback import certify, serve

ITEM = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}


def _op(operation_id: str, tag: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "array", "items": ITEM}}}
    return {
        "operationId": operation_id,
        "tags": [tag],
        "responses": {"200": {"description": "ok", "content": content}},
    }


CATALOGUE = {
    "openapi": "3.0.3",
    "info": {"title": "Catalogue (no links)", "version": "1"},
    "paths": {
        "/items": {"get": _op("listItems", "items")},
        "/colours": {"get": _op("listColours", "colours")},
        "/sizes": {"get": _op("listSizes", "sizes")},
    },
}


@pytest.fixture(scope="module")
def catalogue() -> Iterator[tuple[str, list[str]]]:
    app = FastAPI()
    seen: list[str] = []

    @app.middleware("http")
    async def keep(request: Request, call_next: Any) -> Response:
        seen.append(f"{request.method} {request.url.path}")
        response: Response = await call_next(request)
        return response

    for path in ("/items", "/colours", "/sizes"):
        app.add_api_route(path, lambda: JSONResponse([{"name": "a"}]), methods=["GET"])
    app.add_api_route("/common.json", lambda: JSONResponse({"Item": ITEM}), methods=["GET"])
    with serve(app) as url:
        yield url, seen


def test_stateful_criterion_is_not_applicable_on_a_spec_without_links(
    catalogue: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, _ = catalogue
    certified = certify(copy.deepcopy(CATALOGUE), url, tmp_path)
    assert certified.run.stateful_skip == "not_applicable", certified.run.stateful_skip
    assert certified.outcome("CON-STATEFUL") is Outcome.NOT_APPLICABLE, certified.reasons("CON-STATEFUL")
    assert "no OpenAPI links" in certified.reasons("CON-STATEFUL")
    # The rest of the run is a real one: the operations answered and their checks passed.
    assert certified.outcome("CON-SCHEMA") is Outcome.PASS, certified.reasons("CON-SCHEMA")


@pytest.mark.parametrize(
    ("only", "kept"),
    [
        (OperationFilter(tags=("colours",)), {"GET /colours"}),
        (OperationFilter(paths=("/s*",)), {"GET /sizes"}),
        (OperationFilter(operation_ids=("listItems", "listSizes")), {"GET /items", "GET /sizes"}),
    ],
)
def test_the_target_limits_the_contract_run_by_tag_path_or_operation_id(
    catalogue: tuple[str, list[str]], tmp_path: Path, only: OperationFilter, kept: set[str]
) -> None:
    url, seen = catalogue
    seen.clear()
    certified = certify(copy.deepcopy(CATALOGUE), url, tmp_path, only=only)
    assert set(certified.run.operations) == kept
    assert certified.run.tested == kept
    # Nothing outside the selection was sent anything (but schemathesis's one capability probe).
    paths = {entry.split(" ", 1)[1] for entry in seen if "/schemathesis-probe" not in entry}
    assert paths == {label.split(" ", 1)[1] for label in kept}, paths
    header = next(
        e for r in certified.results.recorded for e in r.evidence if e.get("label") == "contract run"
    )
    assert f"limited by the target to {only}" in header["text"]


def test_a_filter_that_selects_nothing_is_a_harness_error_not_a_pass(
    catalogue: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, _ = catalogue
    certified = certify(copy.deepcopy(CATALOGUE), url, tmp_path, only=OperationFilter(tags=("typo",)))
    assert {certified.outcome(c) for c in ("CON-SCHEMA", "CON-AUTH", "CON-STATUS")} == {Outcome.NOT_EVALUATED}
    assert "selects no operation" in certified.reasons("CON-SCHEMA")


def test_an_external_ref_that_cannot_be_fetched_is_named_in_the_harness_error(
    catalogue: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, _ = catalogue
    spec = copy.deepcopy(CATALOGUE)
    missing = f"{url}/missing.json"
    spec["paths"]["/items"]["get"] = _op("listItems", "items", {"$ref": f"{missing}#/Item"})
    # One that can be fetched (relative to the spec's location, served by the same mock) is fine.
    spec["paths"]["/sizes"]["get"] = _op(
        "listSizes", "sizes", {"type": "array", "items": {"$ref": "common.json#/Item"}}
    )
    location = f"{url}/openapi.json"
    certified = certify(spec, url, tmp_path, location=location)
    reasons = certified.reasons("CON-SCHEMA")
    assert certified.outcome("CON-SCHEMA") is Outcome.NOT_EVALUATED, reasons
    assert missing in reasons, reasons
    assert "HTTP 404" in reasons, reasons
    assert reasons.count("harness") >= 1
    assert "GET /items" in certified.run.blocked
    assert {"GET /colours", "GET /sizes"} <= certified.run.tested
    assert json.dumps(certified.run.tool_errors[0].__dict__).count(missing) == 1
