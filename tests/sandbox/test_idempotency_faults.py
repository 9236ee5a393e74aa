"""The idempotency faults, on every gateway of the sandbox: `idempotency-race` (check-then-store) makes the
concurrent creates of tests/sandbox/test_concurrency.py several payments, so that test can fail, and
`idempotency-ignores-body` replays the first answer to a key reused with another body."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from functools import partial

import pytest

from paycert.sandbox import SandboxServer
from tests.conftest import StartSandbox
from tests.sandbox.test_concurrency import (
    Gateway,
    gustaffo_gateway,
    paylican_gateway,
    stored,
    together,
    txservices_gateway,
)

CONCURRENT = 20

MakeGateway = Callable[[SandboxServer], Gateway]


@pytest.fixture(params=[gustaffo_gateway, txservices_gateway, paylican_gateway], ids=lambda f: f.__name__)
def make_gateway(request: pytest.FixtureRequest) -> Iterator[MakeGateway]:
    made: list[Gateway] = []

    def make(sandbox: SandboxServer) -> Gateway:
        made.append(request.param(sandbox))
        return made[-1]

    yield make
    for gateway in made:
        gateway.helper.http.close()


def test_idempotency_race_makes_a_payment_per_concurrent_create(
    start_sandbox: StartSandbox, make_gateway: MakeGateway
) -> None:
    sandbox = start_sandbox("idempotency-race")
    gateway = make_gateway(sandbox)
    key = f"race-{uuid.uuid4().hex}"
    reference = f"order-{key}"
    gateway.fresh_connections()

    answers = together([partial(gateway.create, key, reference)] * CONCURRENT)

    assert [a.status_code for a in answers] == [gateway.status] * CONCURRENT, [a.text for a in answers]
    made = stored(sandbox, gateway.kind, gateway.reference_field, reference)
    assert made > 1, "the check-then-store race made one payment only"
    assert len({a.json()[gateway.id_field] for a in answers}) == made
    # Once stored, the key is replayed as before: the race is only between looking and storing.
    again = gateway.create(key, reference)
    assert again.headers.get("idempotent-replayed") == "true"
    assert stored(sandbox, gateway.kind, gateway.reference_field, reference) == made


def test_idempotency_ignores_body_replays_the_first_answer_to_another_body(
    start_sandbox: StartSandbox, make_gateway: MakeGateway
) -> None:
    sandbox = start_sandbox("idempotency-ignores-body")
    gateway = make_gateway(sandbox)
    key = f"reused-{uuid.uuid4().hex}"

    first = gateway.create(key, f"order-a-{key}")
    other = gateway.create(key, f"order-b-{key}")

    assert (first.status_code, other.status_code) == (gateway.status, gateway.status), other.text
    assert other.headers.get("idempotent-replayed") == "true"
    assert other.content == first.content
    assert stored(sandbox, gateway.kind, gateway.reference_field, f"order-b-{key}") == 0


def test_a_correct_sandbox_refuses_a_key_reused_with_another_body(
    sandbox: SandboxServer, make_gateway: MakeGateway
) -> None:
    gateway = make_gateway(sandbox)
    key = f"reused-{uuid.uuid4().hex}"

    first = gateway.create(key, f"order-a-{key}")
    other = gateway.create(key, f"order-b-{key}")

    assert first.status_code == gateway.status
    assert other.status_code == 422, other.text
