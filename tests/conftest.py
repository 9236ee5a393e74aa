"""Fixtures for paycert's own tests: real sandboxes on loopback, with or without faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paycert.sandbox import SandboxConfig, SandboxServer

StartSandbox = Callable[..., SandboxServer]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests (whole `paycert run`s, a minute or more each) first, in their collected order.

    With the README's `-n 4 --maxschedchunk 1` each worker is handed two tests at a time and refilled as it
    finishes them, so the slow ones spread over the workers from the start and the quick ones fill the gaps,
    instead of a batch of slow ones queueing on one worker at the end. Tests that share a module-wide run do
    not depend on this: they share it through `tests/shared_once.py`, on whichever workers they land.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def start_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartSandbox]:
    """Start a sandbox on a free loopback port: `start_sandbox("bad-signature", tls=True)`.

    Pass `data_dir=` to restart on the data of an earlier one (restart tests).
    """
    servers: list[SandboxServer] = []

    def start(*faults: str, tls: bool = False, data_dir: Path | None = None) -> SandboxServer:
        directory = data_dir or tmp_path_factory.mktemp("sandbox")
        server = SandboxServer(SandboxConfig(directory, faults=frozenset(faults)), tls=tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> SandboxServer:
    """A correct sandbox over plain HTTP."""
    return start_sandbox()


@pytest.fixture
def started_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A correct sandbox over plain HTTP, its own data in the test's folder, stopped after the test."""
    with SandboxServer(SandboxConfig(tmp_path / "sandbox")) as server:
        yield server
