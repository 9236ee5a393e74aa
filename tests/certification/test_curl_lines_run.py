"""The curl lines of a real run's evidence run as pasted: the user sets the target's variables (and the token
by the line the report gives), and the gateway answers as it answered paycert."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from paycert.cli.sandbox_cmd import env_name
from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.sandbox.gateways import GATEWAYS
from tests.certification.runs import assert_no_leaks, paycert


@pytest.fixture(autouse=True)
def _shell_tools() -> None:
    # Missing prerequisites fail, not skip: a skipped run of the curl lines would look like a green one.
    missing = [tool for tool in ("bash", "curl", "jq") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed (apt-get install -y curl jq, as .ci/run does)")


GUSTAFFO = next(g for g in GATEWAYS if g.PREFIX.strip("/") == "gustaffo")


def evidence(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, dict):
        if document.get("kind") in ("exchange", "note"):
            yield document
        for value in document.values():
            yield from evidence(value)
    elif isinstance(document, list):
        for value in document:
            yield from evidence(value)


def test_a_recorded_curl_line_gets_the_recorded_status(tmp_path: Path) -> None:
    variables = {env_name("gustaffo", k): v for k, v in GUSTAFFO.CREDENTIALS.items()}
    with SandboxServer(SandboxConfig(tmp_path / "sandbox")) as server:
        target = tmp_path / "target.yaml"
        gateway: dict[str, Any] = {
            "base_url": f"{server.base_url}/gustaffo",
            "control_url": f"{server.base_url}/_sandbox",
            "credentials": {k: env_name("gustaffo", k) for k in GUSTAFFO.CREDENTIALS},
        }
        target.write_text(yaml.safe_dump({"name": "curl lines", "gateways": {"gustaffo": gateway}}))
        run = paycert(
            "run", "--target", str(target), "-s", "webhooks", "-c", "WH-SIGNATURE",
            report_dir=tmp_path / "r", env=variables,
        )  # fmt: skip
        assert run.code == 0, run.stdout + run.stderr
        assert_no_leaks(run.run_dir)
        items = list(evidence(json.loads((run.run_dir / "readiness.json").read_text())))
        hint = next(
            i["text"] for i in items if i["kind"] == "note" and "PAYCERT_GUSTAFFO_TOKEN=" in i["text"]
        )
        token = next(i for i in items if i["kind"] == "exchange" and i["url"].endswith("/oauth/token"))
        payment = next(i for i in items if i["kind"] == "exchange" and i["url"].endswith("/api/v1/payments"))
        assert "${PAYCERT_GUSTAFFO_CLIENT_SECRET}" in token["curl"]
        assert "${PAYCERT_GUSTAFFO_TOKEN}" in payment["curl"]

        env = {"PATH": os.environ["PATH"], **variables}  # what a user sets: the target's variables, no more
        for recorded, setup in ((token, ""), (payment, hint)):
            script = f"{setup}\n{recorded['curl']} -o /dev/null -w '%{{http_code}}'"
            done = subprocess.run(
                ["bash", "-c", script], check=False, env=env, capture_output=True, text=True, timeout=60
            )
            assert done.stdout == str(recorded["status"]), (recorded["curl"], done.stdout, done.stderr)
