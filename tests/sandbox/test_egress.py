"""The sandbox sends only to this machine: a webhook URL on the network is a refused attempt, never a request.

Generated contract tests fill `notificationUrl` with hosts such as `https://88.com`; the sandbox must not try them.
"""

from __future__ import annotations

import httpx
import pytest

from paycert.sandbox import SandboxServer
from paycert.sandbox.egress import EgressGuard, EgressRefusedError, is_loopback_host
from tests.sandbox.test_txservices_support import VISA, Tx


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "api.localhost"])
def test_loopback_hosts_are_on_this_machine(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["88.com", "10.0.0.1", "192.168.1.20", "8.8.8.8", "localhost.example", "::2"]
)
def test_every_other_host_is_not(host: str) -> None:
    assert not is_loopback_host(host)


def test_an_allowed_host_passes_by_name_only() -> None:
    guard = EgressGuard(httpx.AsyncHTTPTransport(), allowed_hosts=["merchant.internal"])
    assert guard.allows("merchant.internal")
    assert guard.allows("127.0.0.1")
    assert not guard.allows("other.internal")


def test_a_callback_to_a_host_on_the_network_is_refused_before_it_leaves(sandbox: SandboxServer) -> None:
    tx = Tx(sandbox.base_url)
    try:
        tx.pay(VISA, notificationUrl="https://paycert-egress-check.example/webhooks")
        delivery = tx.wait_for_attempts(1)
    finally:
        tx.close()
    [attempt] = delivery["attempt_log"]
    assert attempt["status_code"] is None
    assert EgressRefusedError.__name__ in attempt["error"]
    assert "not on this machine" in attempt["error"]
