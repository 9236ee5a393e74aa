"""Transport (002 §1.1, §2.1): every byte goes over HTTPS with TLS 1.2 or newer and a certificate that holds.

Each TLS version is offered alone in a real handshake, and one request travels over plain HTTP to where the
gateway's host takes it; what they met is the evidence. A gateway whose base URL is http:// fails both.
"""

from __future__ import annotations

import pytest

from paycert.plugin.transport import Transport
from paycert.probes.plain_http import PlainHttp


@pytest.mark.criterion("SEC-TLS")
def test_old_tls_versions_are_refused_and_modern_ones_accepted(transport: Transport) -> None:
    assert transport.over_https, (
        f"the target's base URL is plain http:// ({transport.base_url}): there is no TLS to probe, "
        "and payment data would travel in clear text"
    )

    tls = transport.tls_versions()

    assert not tls.findings, "; ".join(tls.findings)
    transport.require_evaluated(tls.unevaluated)


@pytest.mark.criterion("SEC-HTTPS")
def test_plain_http_is_refused_or_redirected(transport: Transport) -> None:
    plain = transport.plain_http()

    assert transport.over_https, (
        f"the target's base URL is plain http:// ({transport.base_url}); {plain.describe()}"
    )
    if plain.outcome is PlainHttp.NO_ANSWER:
        transport.require_evaluated([plain.describe()])
    assert plain.kept_on_tls, f"{plain.describe()}: plain HTTP must be refused or redirected to https://"
