"""A run removes the webhook registrations it made, on a sandbox too: a reused sandbox must not keep sending
every later event to the receiver of a run that has ended (issue 15, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paycert.sandbox import SandboxConfig, SandboxServer
from tests.certification.runs import paycert
from tests.certification.test_targets import sandbox_target, write
from tests.sandbox.test_gustaffo import Gustaffo

pytestmark = pytest.mark.slow


def registered_urls(server: SandboxServer) -> list[str]:
    gustaffo = Gustaffo(server.base_url)
    try:
        listed = gustaffo.http.get("/api/v1/webhooks", headers=gustaffo.auth)
        assert listed.status_code == 200, listed.text
        return [str(w["url"]) for w in listed.json()["webhooks"]]
    finally:
        gustaffo.http.close()


def test_two_runs_on_one_sandbox_leave_no_registration_pointing_at_a_closed_receiver(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(tmp_path / "sandbox")) as server:
        content, env = sandbox_target(server.base_url)
        gateways = content["gateways"]
        assert isinstance(gateways, dict)
        content["gateways"] = {"gustaffo": gateways["gustaffo"]}
        target = write(tmp_path / "target.yaml", content)
        before = registered_urls(server)

        for number in (1, 2):
            run = paycert(
                "run", "--target", str(target), "-g", "gustaffo", "-s", "webhooks",
                report_dir=tmp_path / f"reports-{number}", env=env,
            )  # fmt: skip
            # Neither run sees more than its own deliveries: the first one's receiver is no longer called.
            assert run.with_status("fail") == set(), run.stderr[-2000:]
            assert run.with_status("pass") >= {"WH-RETRY", "WH-DUPLICATES"}
            assert registered_urls(server) == before, f"run {number} left its registration behind"
