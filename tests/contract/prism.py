"""Stoplight Prism (`prism mock SPEC`, npm, tools/node) on a free loopback port: a real third-party mock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.certification.runs import REPO

SHARED = REPO.parent / "shared"
ADYEN = SHARED / "thirdparty" / "adyen"
PRISM = REPO / "tools" / "node" / "node_modules" / ".bin" / "prism"
PRISM_START_S = 60.0
# Escapes Prism's `sl-violations` header, whose raw non-Latin-1 text crashes Prism itself (see the file).
HEADER_GUARD = Path(__file__).with_name("prism_header_guard.js")


def require_prism() -> None:
    # Missing prerequisites fail, not skip: a skipped third-party run would look like a green one.
    if not PRISM.exists():
        pytest.fail(f"Prism is not installed ({PRISM}): run npm ci --prefix tools/node")
    if not ADYEN.is_dir():
        pytest.fail(f"the third-party specs are not beside the repo ({ADYEN})")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def prism_mock(spec: Path, log: Path) -> Iterator[str]:
    """`prism mock spec` in its own process group, killed when the block ends; yields its base URL."""
    require_prism()
    port = free_port()
    with log.open("wb") as out:
        # `-v fatal`: Prism logs every request validation otherwise, hundreds of MB for one run.
        process = subprocess.Popen(
            [str(PRISM), "mock", "-v", "fatal", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NODE_OPTIONS": f"--require {HEADER_GUARD}"},
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(process, base_url, log)
        yield base_url
    finally:
        _kill_group(process)


def _wait_until_answering(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + PRISM_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Prism exited ({process.returncode}) before serving: {log.read_text()[-2000:]}")
        try:
            httpx.get(base_url + "/", timeout=2.0)  # any answer, even a 404, means it is serving
            return
        except httpx.TransportError:
            time.sleep(0.25)
    pytest.fail(f"Prism did not answer within {PRISM_START_S:.0f} s: {log.read_text()[-2000:]}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
