"""What the sandbox's tests share: a gateway client of a sandbox of the test's own, started with the faults it names."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import StartSandbox
from tests.sandbox.test_gustaffo import Gustaffo
from tests.sandbox.test_txservices_support import Tx

TxWith = Callable[..., Tx]


@pytest.fixture
def faulty_gustaffo(start_sandbox: StartSandbox) -> Iterator[Callable[..., Gustaffo]]:
    """Start a sandbox with the faults given (none: a correct one) and return its gustaffo client; its clock
    can move and its webhook registrations reach only this test's sink. The clients are closed at the end."""
    clients: list[Gustaffo] = []

    def start(*faults: str) -> Gustaffo:
        clients.append(Gustaffo(start_sandbox(*faults).base_url))
        return clients[-1]

    yield start
    for client in clients:
        client.http.close()


@pytest.fixture
def tx_with(start_sandbox: StartSandbox) -> Iterator[TxWith]:
    """A txservices client of a sandbox started with the faults given, closed after the test."""
    clients: list[Tx] = []

    def make(*faults: str) -> Tx:
        clients.append(Tx(start_sandbox(*faults).base_url))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
