"""What the sandbox's gustaffo tests share: a sandbox of the test's own, started with the faults it names."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import StartSandbox
from tests.sandbox.test_gustaffo import Gustaffo


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
