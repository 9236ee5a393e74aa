"""What the contract run generates: from the spec, never from paycert's own source, and with Idempotency-Keys no
earlier run has sent (issue 15: the false CON-POSITIVE of a second run, and the requests spent shrinking it).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from hypothesis import given, settings
from hypothesis import strategies as st

from paycert.core.results import Outcome
from paycert.plugin.contract_constants import _providers, without_local_constants
from paycert.plugin.contract_hooks import MIN_FRESH_CHOICES
from paycert.plugin.contract_ledger import shape_choices
from tests.contract.loopback import certify, serve

MODULES, PER_MODULE = 3, 800  # Hypothesis reads at most 1024 constants of a module, strings up to 20 long


@pytest.fixture
def local_literals(tmp_path: Path) -> Iterator[set[str]]:
    """Modules outside site-packages and the tests' folders, so Hypothesis counts them as local source; their
    literals are most of its local pool, so a draw from that pool shows."""
    folder = tmp_path / "localsrc"
    folder.mkdir()
    markers: set[str] = set()
    names = [f"zq_local_literals_{m}" for m in range(MODULES)]
    for m, name in enumerate(names):
        literals = [
            f"zqlit{m}-{n:04d}" for n in range(PER_MODULE)
        ]  # at most 20 characters: Hypothesis skips longer
        markers.update(literals)
        source = folder / f"{name}.py"
        source.write_text(f"LITERALS = {literals!r}\n", encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, source)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    try:
        yield markers
    finally:
        for name in names:
            sys.modules.pop(name, None)


def _drawn() -> set[str]:
    """What Hypothesis generates for plain text, deterministically (no database, derandomized)."""
    found: set[str] = set()

    @settings(max_examples=2000, derandomize=True, database=None, deadline=None)
    @given(st.text())
    def draw(value: str) -> None:
        found.add(value)

    draw()
    return found


def test_hypothesis_still_has_the_local_constant_pool_paycert_turns_off() -> None:
    # If a Hypothesis release moves it, `without_local_constants` silently does nothing: this says so.
    assert _providers() is not None


def test_generation_inside_a_contract_run_draws_no_local_source_literal(local_literals: set[str]) -> None:
    with without_local_constants():
        inside = _drawn()
    outside = _drawn()

    assert not inside & local_literals, sorted(inside & local_literals)[:5]
    # The same draws outside the run do use them: the pool was there, and it is back.
    assert outside & local_literals


def _notes_spec() -> dict[str, Any]:
    note = {"type": "object", "properties": {"note": {"type": "string"}, "tags": {"type": "array"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Notes", "version": "1.0.0"},
        "paths": {
            "/notes": {
                "post": {
                    "operationId": "notes.create",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": note}}},
                    "responses": {"201": {"description": "kept"}, "400": {"description": "not JSON"}},
                }
            }
        },
    }


def test_a_contract_run_sends_no_literal_of_local_source(tmp_path: Path, local_literals: set[str]) -> None:
    received: list[str] = []
    app = FastAPI()

    @app.post("/notes")
    async def keep(request: Request) -> Response:
        received.append((await request.body()).decode("utf-8", errors="replace"))
        return Response(status_code=201)

    with serve(app) as url:
        certify(_notes_spec(), url, tmp_path, examples=50)

    assert len(received) > 40, received[:5]
    assert not [body for body in received if "zqlit" in body], [b for b in received if "zqlit" in b][:3]


# -- Idempotency-Keys -----------------------------------------------------------------------------------

KEY_EXAMPLE = "order-2024-0001-attempt-1"


def _keyed_spec() -> dict[str, Any]:
    error = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    created = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Keyed orders", "version": "1.0.0"},
        "paths": {
            "/orders": {
                "post": {
                    "operationId": "orders.create",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                            "example": KEY_EXAMPLE,
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["amount"],
                                    "properties": {"amount": {"type": "integer", "minimum": 1}},
                                },
                                "example": {"amount": 100},
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {"application/json": {"schema": created}},
                        },
                        "400": {"description": "invalid", "content": {"application/json": {"schema": error}}},
                        "422": {
                            "description": "the key was used with another body",
                            "content": {"application/json": {"schema": error}},
                        },
                    },
                }
            }
        },
    }


@dataclass
class KeyedGateway:
    """Every request it got (run, key, body), and the keys it remembers across runs, as a gateway does for a
    day: the same key with another body is 422; a valid body is required (400), so a 422 is only a key."""

    run: int = 1
    sent: list[tuple[int, str, bytes]] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)

    def keys(self, run: int, *, narrow: bool) -> list[str]:
        """The keys a run sent whose shape allows fewer than a million fresh ones (`narrow`), or more."""
        return [k for r, k, _ in self.sent if r == run and _narrow(k) is narrow]


def _keyed_app(gateway: KeyedGateway) -> FastAPI:
    app = FastAPI()

    @app.post("/orders")
    async def create(request: Request) -> Response:
        key = request.headers.get("idempotency-key", "")
        body = await request.body()
        gateway.sent.append((gateway.run, key, body))
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        amount = data.get("amount") if isinstance(data, dict) else None
        if not 1 <= len(key) <= 64 or type(amount) is not int or amount < 1:
            return JSONResponse({"error": "invalid"}, status_code=400)
        if gateway.bodies.setdefault(key, body) != body:
            return JSONResponse({"error": "idempotency_key_reused"}, status_code=422)
        return JSONResponse({"id": f"ord_{len(gateway.bodies)}"}, status_code=201)

    return app


def test_no_idempotency_key_goes_out_with_a_request_it_went_with_before_in_this_run_or_the_last(
    tmp_path: Path,
) -> None:
    gateway = KeyedGateway()
    with serve(_keyed_app(gateway)) as url:
        first = certify(_keyed_spec(), url, tmp_path / "first")
        gateway.run = 2
        second = certify(_keyed_spec(), url, tmp_path / "second")

    for run in (first, second):
        assert run.outcome("CON-POSITIVE") is Outcome.PASS, run.reasons("CON-POSITIVE")
    wide_keys = {n: gateway.keys(n, narrow=False) for n in (1, 2)}
    assert wide_keys[1], gateway.sent[:5]
    assert not set(wide_keys[1]) & set(wide_keys[2]), "the second run sent keys of the first"
    assert len(set(wide_keys[2])) == len(wide_keys[2]), "a run sent one of its own keys twice"
    # Fresh keys keep the generated ones' shape: the same generation, so the same lengths (a key over the
    # spec's 64 characters, from the coverage phase, stays one).
    assert sorted(map(len, wide_keys[1])) == sorted(map(len, wide_keys[2]))
    assert any(len(k) > 64 for k in wide_keys[2])
    # Narrow keys (boundary cases such as `0`) were sent, and never with two bodies (the gateway kept both runs).
    assert gateway.keys(1, narrow=True)
    assert not [k for _, k, _ in gateway.sent if _narrow(k) and k and _bodies(gateway, k) > 1]


def _narrow(key: str) -> bool:
    return shape_choices(key) < MIN_FRESH_CHOICES


def _bodies(gateway: KeyedGateway, key: str) -> int:
    return len({body for _, k, body in gateway.sent if k == key})
