"""The sandbox's transport: HTTPS with a TLS 1.2 floor and a plain-HTTP port that redirects to it, and the
faults that break each (`tls-legacy`, `plain-http`), seen through SEC-TLS's and SEC-HTTPS's probes."""

from __future__ import annotations

import httpx
import pytest

from paycert.probes.plain_http import PlainHttp, probe_plain_http
from paycert.probes.tls_versions import probe_tls
from tests.conftest import StartSandbox


@pytest.mark.parametrize(("faults", "old_versions"), [((), "refused"), (("tls-legacy",), "accepted")])
def test_the_https_sandbox_refuses_old_versions_unless_started_with_tls_legacy(
    start_sandbox: StartSandbox, faults: tuple[str, ...], old_versions: str
) -> None:
    server = start_sandbox(*faults, tls=True)

    probe = probe_tls(f"{server.base_url}/gustaffo", ca_file=server.ca_file)

    assert {h.offered: h.outcome.value for h in probe.handshakes} == {
        "TLS 1.0": old_versions,
        "TLS 1.1": old_versions,
        "TLS 1.2": "accepted",
        "TLS 1.3": "accepted",
    }
    assert probe.certificate.trusted is True, probe.certificate.detail


def test_the_https_sandbox_redirects_plain_http_to_the_same_path_over_https(
    start_sandbox: StartSandbox,
) -> None:
    server = start_sandbox(tls=True)
    assert server.plain_http_url is not None

    probe = probe_plain_http(f"{server.plain_http_url}/gustaffo")
    answer = httpx.post(f"{server.plain_http_url}/gustaffo/oauth/token?x=1", timeout=5)

    assert probe.outcome is PlainHttp.REDIRECTED
    assert probe.detail == f"HTTP 308 to {server.base_url}/gustaffo/"
    assert answer.status_code == 308  # the method and body are kept by whoever follows it
    assert answer.headers["location"] == f"{server.base_url}/gustaffo/oauth/token?x=1"


def test_the_plain_http_fault_serves_the_sandbox_api_in_clear_text(start_sandbox: StartSandbox) -> None:
    server = start_sandbox("plain-http", tls=True)
    assert server.plain_http_url is not None

    probe = probe_plain_http(f"{server.plain_http_url}/gustaffo")
    health = httpx.get(f"{server.plain_http_url}/_sandbox/health", timeout=5)

    assert probe.outcome is PlainHttp.SERVED
    assert health.status_code == 200
    assert health.json()["faults"] == ["plain-http"]


def test_a_plain_http_sandbox_has_no_second_listener(start_sandbox: StartSandbox) -> None:
    assert start_sandbox().plain_http_url is None
