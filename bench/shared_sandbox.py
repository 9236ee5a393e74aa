"""One reference sandbox for both sides of a comparison: `paycert sandbox --tls` in a child process.

Started once by the harness, with a target file describing it (as the embedded run writes one), so paycert
and its baseline call the same server, whose CPU is in neither side's figure. Its request log tells how many
calls each side made.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx
import yaml

from paycert.cli.sandbox_cmd import env_name
from paycert.sandbox.gateways import GATEWAYS

START_TIMEOUT_S = 30.0
ANNOUNCED = "gateways and their public test credentials"


class SharedSandbox:
    """`paycert sandbox --tls --port 0` on loopback, its target file, and the environment a run needs."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.data_dir = work / "sandbox"
        self.process = subprocess.Popen(
            ["paycert", "sandbox", "--tls", "--port", "0", "--data-dir", str(self.data_dir)],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=(work / "sandbox.stderr.log").open("wb"),
            text=True,
            start_new_session=True,
        )
        lines = _announcement(self.process.stdout)
        self.base_url = _after(lines, "paycert sandbox on ")
        self.ca_file = Path(_after(lines, "TLS CA certificate: "))
        self.plain_http_url = _after(lines, "plain HTTP on ")
        self.env: dict[str, str] = {}  # the credentials' variables, as `paycert sandbox` prints them
        self.target_file = work / "bench-target.yaml"
        self.target_file.write_text(yaml.safe_dump(self._target(), sort_keys=False), encoding="utf-8")

    def _target(self) -> dict[str, Any]:
        gateways: dict[str, Any] = {}
        for module in GATEWAYS:
            gid = module.PREFIX.strip("/")
            entry: dict[str, Any] = {
                "base_url": f"{self.base_url}{module.PREFIX}",
                "environment": "sandbox",
                "control_url": f"{self.base_url}/_sandbox",
                "credentials": {},
                "ca_file": str(self.ca_file),
                "plain_http_url": f"{self.plain_http_url}{module.PREFIX}",
            }
            for name, value in module.CREDENTIALS.items():
                self.env[env_name(gid, name)] = value
                entry["credentials"][name] = env_name(gid, name)
            for name, value in (getattr(module, "OTHER_CREDENTIALS", None) or {}).items():
                self.env[env_name(gid, f"other_{name}")] = value
                entry.setdefault("other_client", {})[name] = env_name(gid, f"other_{name}")
            gateways[gid] = entry
        return {"name": "bench: one shared reference sandbox", "gateways": gateways}

    def gustaffo_token(self) -> str:
        """One bearer token for gustaffo, fetched with a single plain call."""
        from paycert.sandbox.gateways import gustaffo

        answer = httpx.post(
            f"{self.base_url}{gustaffo.PREFIX}/oauth/token",
            data={"grant_type": "client_credentials", **gustaffo.CREDENTIALS},
            verify=str(self.ca_file),
            timeout=10.0,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def requests_logged(self) -> int:
        """Requests the sandbox has answered so far (one JSON line each in its request log)."""
        path = self.data_dir / "requests.log"
        if not path.is_file():
            return 0
        with path.open("rb") as log:
            return sum(1 for _ in log)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _announcement(stdout: IO[str] | None) -> list[str]:
    """The lines `paycert sandbox` prints at start, up to its credentials header (bounded in time)."""
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # keeps reading, so the pipe never fills while the sandbox serves
        for line in stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=drain, name="bench-sandbox-stdout", daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(ANNOUNCED):
            return seen
    raise RuntimeError(f"`paycert sandbox --tls` did not announce itself in {START_TIMEOUT_S:g} s: {seen}")


def _after(lines: list[str], prefix: str) -> str:
    for line in lines:
        if line.startswith(prefix):
            return line[len(prefix) :].split()[0]
    raise RuntimeError(f"`paycert sandbox` printed no {prefix.strip()!r} line")
