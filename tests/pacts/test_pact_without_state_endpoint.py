"""CON-PACT on a gateway with no provider-state endpoint (every real one): paycert pays the payment itself.

The interactions that need "a completed payment exists" are verified against a payment the shopper really
paid on the gateway's hosted page, not left not evaluated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paycert.sandbox import SandboxServer
from tests.certification.runs import paycert
from tests.certification.test_targets import sandbox_target, write

pytestmark = pytest.mark.slow


def test_the_pact_is_verified_without_a_provider_state_endpoint(
    started_sandbox: SandboxServer, tmp_path: Path
) -> None:
    content, env = sandbox_target(started_sandbox.base_url)
    for gateway in content["gateways"].values():  # type: ignore[attr-defined]
        del gateway["control_url"]
    target = write(tmp_path / "target.yaml", content)

    run = paycert("run", "--target", str(target), "-s", "pacts", report_dir=tmp_path / "reports", env=env)

    assert run.code == 0, run.stderr[-2000:]
    assert run.statuses() == {"CON-PACT": "pass"}
    pact = next(c for c in run.readiness["criteria"] if c["id"] == "CON-PACT")
    for gateway, cell in pact["gateways"].items():
        tests = [t for t in cell["tests"] if "a completed payment" in str(t)]
        assert cell["status"] == "pass", (gateway, cell["reason"])
        assert tests, f"{gateway}: no interaction needed a completed payment"
