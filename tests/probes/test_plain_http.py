"""SEC-HTTPS's probe against real servers on loopback (the sandbox's listener: tests/sandbox/test_transport.py)."""

from __future__ import annotations

import pytest

from paycert.probes.plain_http import PlainHttp, probe_plain_http
from tests.probes.servers import closed_port, serving


def test_a_redirect_to_https_keeps_the_request_on_tls() -> None:
    with serving((301, {"location": "https://127.0.0.1:8443/api/"})) as url:
        probe = probe_plain_http(f"{url}/api")

    assert probe.outcome is PlainHttp.REDIRECTED
    assert probe.kept_on_tls
    assert probe.exchange is not None
    assert probe.exchange.status == 301
    assert probe.exchange.url == f"{url}/api/"


def test_a_refused_connection_keeps_the_request_on_tls() -> None:
    with closed_port() as port:
        probe = probe_plain_http(f"http://127.0.0.1:{port}/api")

    assert probe.outcome is PlainHttp.REFUSED
    assert probe.kept_on_tls
    assert probe.exchange is not None
    assert probe.exchange.error == "refused: connection refused"


@pytest.mark.parametrize("status", [200, 401, 404, 500])
def test_any_answer_over_plain_http_fails(status: int) -> None:
    with serving((status, {"content-type": "text/plain"})) as url:
        probe = probe_plain_http(f"{url}/api")

    assert probe.outcome is PlainHttp.SERVED
    assert not probe.kept_on_tls
    assert f"answered HTTP {status} over plain HTTP" in probe.describe()


def test_a_redirect_to_another_plain_http_url_fails() -> None:
    with serving((302, {"location": "/login"})) as url:
        probe = probe_plain_http(f"{url}/api")

    assert probe.outcome is PlainHttp.SERVED
    assert f"to {url}/login, which is not https://" in probe.detail


def test_an_https_url_is_not_a_plain_http_probe() -> None:
    with pytest.raises(ValueError, match="not an http:// URL"):
        probe_plain_http("https://127.0.0.1/api")
