"""SEC-TLS and SEC-HTTPS through `paycert run`: green on the default HTTPS sandbox, red on plain HTTP, and each
transport fault turns exactly its own criterion red."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.certification.runs import Run, assert_no_leaks, paycert

pytestmark = pytest.mark.slow

TRANSPORT = ["run", "-s", "security", "-c", "SEC-TLS", "-c", "SEC-HTTPS", "-g", "gustaffo"]


def cell(run: Run, criterion: str) -> dict[str, Any]:
    found = next(c for c in run.readiness["criteria"] if c["id"] == criterion)
    gateway: dict[str, Any] = found["gateways"]["gustaffo"]
    return gateway


def test_the_default_https_sandbox_passes_both(tmp_path: Path) -> None:
    run = paycert(*TRANSPORT, report_dir=tmp_path)

    assert run.code == 0, f"exit {run.code}: {run.last_stderr_line()}"
    assert "embedded sandbox on https://" in run.stdout
    assert run.statuses() == {"SEC-TLS": "pass", "SEC-HTTPS": "pass"}
    evidence = [
        e for t in run.readiness["criteria"][0]["gateways"]["gustaffo"]["tests"] for e in t["evidence"]
    ]
    assert {e["label"] for e in evidence if e["kind"] == "exchange"} >= {
        "SEC-TLS: TLS 1.0",
        "SEC-TLS: TLS 1.3",
    }


def test_no_tls_fails_both_because_the_base_url_is_plain_http(tmp_path: Path) -> None:
    run = paycert(*TRANSPORT, "--no-tls", report_dir=tmp_path)

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.readiness["verdict"] == "NO-GO"
    assert run.statuses() == {"SEC-TLS": "fail", "SEC-HTTPS": "fail"}
    for criterion in ("SEC-TLS", "SEC-HTTPS"):
        assert cell(run, criterion)["reason"].startswith("the target's base URL is plain http://"), criterion


@pytest.mark.parametrize(
    ("fault", "red", "why"),
    [
        ("tls-legacy", "SEC-TLS", "TLS 1.0 accepted (negotiated TLSv1,"),
        ("plain-http", "SEC-HTTPS", "served (answered HTTP 404 over plain HTTP)"),
    ],
)
def test_each_transport_fault_turns_exactly_its_criterion_red(
    fault: str, red: str, why: str, tmp_path: Path
) -> None:
    run = paycert(*TRANSPORT, "--sandbox-fault", fault, report_dir=tmp_path)

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == {red}
    assert run.with_status("pass") == {"SEC-TLS", "SEC-HTTPS"} - {red}
    assert why in cell(run, red)["reason"]
    assert_no_leaks(run.run_dir)
