"""The load phase never exceeds its bounds: the sandbox's own request log counts what reached it, and the
child process that ran Locust is gone when the phase returns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from paycert.load.config import GRACE_SECONDS, LoadConfig
from paycert.load.phase import LoadPhaseError, run_load_phase
from paycert.sandbox import SandboxServer
from paycert.sandbox.gateways import GATEWAYS
from tests.conftest import StartSandbox

pytestmark = pytest.mark.slow

GATEWAY = "gustaffo"
# How much later than its bound (and the runner's grace for answers in flight) the phase may say it stopped:
# quitting Locust's users takes a moment.
SLACK_SECONDS = 0.5


def _target(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A target file for the sandbox's gustaffo; its credentials in the environment the child inherits."""
    module = next(m for m in GATEWAYS if m.PREFIX.strip("/") == GATEWAY)
    credentials = {}
    for name, value in module.CREDENTIALS.items():
        variable = f"PAYCERT_TEST_LOAD_{name.upper()}"
        monkeypatch.setenv(variable, value)
        credentials[name] = variable
    document = {
        "name": "load bounds",
        "gateways": {GATEWAY: {"base_url": f"{server.base_url}{module.PREFIX}", "credentials": credentials}},
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _served(server: SandboxServer) -> list[dict[str, object]]:
    """What the sandbox served to the gateway, from its request log (not from Locust's figures)."""
    lines = server.config.request_log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return [e for e in entries if str(e["path"]).startswith(f"/{GATEWAY}/")]


def _load_children() -> list[int]:
    """This process's children that run the load phase (none may be left behind)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone while we looked
        if ppid == os.getpid() and b"paycert.load.runner" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_the_phase_sends_at_most_max_requests(
    start_sandbox: StartSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_sandbox()
    target = _target(server, tmp_path, monkeypatch)

    figures = run_load_phase(LoadConfig(str(target), GATEWAY, users=4, max_requests=40, max_seconds=60))

    served = _served(server)
    assert len(served) <= 40, f"the sandbox served {len(served)} requests of a phase bounded at 40"
    # It was the count that stopped it (60 s would have allowed many more), and every request is accounted.
    assert figures.stopped_by == "max_requests"
    assert figures.requests == 40
    assert len(served) == figures.answered == sum(o.requests for o in figures.operations)
    assert figures.completed > 0
    assert _load_children() == []


def test_the_phase_stops_at_max_seconds(
    start_sandbox: StartSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_sandbox()
    target = _target(server, tmp_path, monkeypatch)

    figures = run_load_phase(LoadConfig(str(target), GATEWAY, users=4, max_requests=1_000_000, max_seconds=2))

    assert figures.stopped_by == "max_seconds"
    assert figures.seconds <= 2 + GRACE_SECONDS + SLACK_SECONDS
    assert 0 < len(_served(server)) <= figures.requests < 1_000_000
    assert _load_children() == []


def test_a_bad_configuration_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(LoadPhaseError, match=r"exited 2: paycert load phase: .*does not exist$"):
        run_load_phase(LoadConfig(str(tmp_path / "missing.yaml"), GATEWAY, 1, 1, 1))


def test_the_pytest_process_never_loads_locust() -> None:
    """Locust patches the standard library with gevent on import: the plugin and the phase's parent side must
    not import it (it stays in the child)."""
    import subprocess
    import sys

    code = (
        "import sys, paycert.plugin.plugin, paycert.load.phase, paycert.load.figures; "
        "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
