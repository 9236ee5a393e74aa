"""A load phase whose users all stop before either bound ends then, and says so.

A profile with no card that completes a payment gives the users nothing to pay with: each stops as it starts.
The runner waits for its users as an event (it used to look at the clock every 50 ms until `max_seconds` and
its grace were up, then name `max_seconds` as what stopped a phase that never sent a request).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from paycert.load.config import LoadConfig
from paycert.load.phase import run_load_phase
from paycert.sandbox.gateways import GATEWAYS
from paycert.targets.home import specs_dir
from tests.conftest import StartSandbox

pytestmark = pytest.mark.slow

GATEWAY = "gustaffo"


def _target_without_a_success_card(base_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    profile_dir = tmp_path / "profiles" / GATEWAY
    shutil.copytree(specs_dir() / GATEWAY, profile_dir)
    profile_file = profile_dir / "profile.yaml"
    profile = yaml.safe_load(profile_file.read_text(encoding="utf-8"))
    profile["cards"] = {n: c for n, c in profile["cards"].items() if c.get("outcome") != "COMPLETED"}
    assert profile["cards"], "the test needs a profile that still lists cards, none of them a success"
    profile_file.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    module = next(m for m in GATEWAYS if m.PREFIX.strip("/") == GATEWAY)
    credentials = {}
    for name, value in module.CREDENTIALS.items():
        variable = f"PAYCERT_TEST_LOAD_{name.upper()}"
        monkeypatch.setenv(variable, value)
        credentials[name] = variable
    document = {
        "name": "load users stop",
        "gateways": {
            GATEWAY: {
                "base_url": f"{base_url}{module.PREFIX}",
                "profile": str(profile_file),
                "credentials": credentials,
            }
        },
    }
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_a_phase_whose_users_all_stop_ends_then_and_names_no_bound(
    start_sandbox: StartSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_sandbox()
    target = _target_without_a_success_card(server.base_url, tmp_path, monkeypatch)

    figures = run_load_phase(LoadConfig(str(target), GATEWAY, users=3, max_requests=100, max_seconds=60))

    assert figures.requests == 0
    assert figures.iterations == 0
    # Neither bound was reached: with a poll of the clock it ran its 60 s out and said "max_seconds".
    assert figures.stopped_by == "users"
