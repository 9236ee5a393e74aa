"""The cost of paycert's one I/O seam: GatewayClient status reads vs plain httpx, same sandbox, same process."""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import httpx

from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder
from paycert.redaction import Redactor
from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.sandbox.gateways import gustaffo
from paycert.targets.profile import load_profile
from paycert.targets.target import GatewayTarget

CALLS = 300
TIME_CAP_SECONDS = 60.0


def measure(label: str, call: Callable[[], object]) -> tuple[float, int]:
    """Median seconds per call over CALLS calls (bounded by TIME_CAP_SECONDS), and peak traced memory."""
    for _ in range(10):  # warm-up: connections, caches
        call()
    tracemalloc.start()
    samples: list[float] = []
    deadline = time.monotonic() + TIME_CAP_SECONDS
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(samples)
    print(f"{label:28} {median * 1000:8.3f} ms/call  peak {peak / 1024:9.1f} KiB  ({len(samples)} calls)")
    return median, peak


def main() -> None:
    with SandboxServer(SandboxConfig(Path(tempfile.mkdtemp()))) as server:
        base = f"{server.base_url}{gustaffo.PREFIX}"
        target = GatewayTarget(
            "gustaffo", load_profile("gustaffo"), base, credentials=dict(gustaffo.CREDENTIALS)
        )
        recorder = Recorder(Redactor(target.secrets))
        client = GatewayClient(target, recorder)
        payment = client.create_payment("10.00", return_url="http://127.0.0.1:9/return")
        headers = client.auth_headers()
        raw = httpx.Client()
        url = f"{base}/api/v1/payments/{payment.id}"

        def plain() -> object:
            return raw.get(url, headers=headers).json()

        def paycert() -> object:
            recorder.begin()  # evidence per test, as the plugin does
            return client.refresh(payment)

        base_time, base_mem = measure("httpx GET (baseline)", plain)
        our_time, our_mem = measure("GatewayClient.refresh", paycert)
        print(f"ratio time {our_time / base_time:.2f}x  memory {our_mem / max(base_mem, 1):.2f}x")
        raw.close()
        client.close()


if __name__ == "__main__":
    main()
