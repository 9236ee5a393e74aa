"""The `transport` fixture: SEC-TLS and SEC-HTTPS probes of one gateway, their evidence kept for the report.

Each handshake and each plain-HTTP request is recorded as an exchange of the running test, so a pass rests
on checks that reached the target (core/results.py's evidence rule). Gateways served from one HTTPS origin
(the embedded sandbox serves all three from one host and port) are probed once per run; every gateway's
test records that same evidence and judges it for its own column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from paycert.gateways.http import Recorder
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.probes.plain_http import PlainHttpProbe, probe_plain_http
from paycert.probes.tls_versions import TlsProbe, probe_tls
from paycert.targets.target import GatewayTarget

__all__ = ["Transport", "transport"]

_TLS_PROBES = pytest.StashKey[dict[tuple[str, Path | None], TlsProbe]]()


@dataclass
class Transport:
    """How one gateway's base URL is reached: which TLS versions it takes, what it does with plain HTTP."""

    target: GatewayTarget
    recorder: Recorder
    tls_probes: dict[tuple[str, Path | None], TlsProbe]

    @property
    def base_url(self) -> str:
        return self.target.base_url

    @property
    def over_https(self) -> bool:
        return self.base_url.startswith("https://")

    def tls_versions(self) -> TlsProbe:
        """Each TLS version offered alone to the gateway's origin, and its certificate (once per origin)."""
        key = (urlsplit(self.base_url).netloc, self.target.ca_file)
        shared = key in self.tls_probes
        if not shared:
            self.tls_probes[key] = probe_tls(
                self.base_url,
                ca_file=self.target.ca_file,
                seconds=self._seconds,
                redactor=self.recorder.redactor,
            )
        probe = self.tls_probes[key]
        for exchange in probe.exchanges:
            self.recorder.log.add(exchange)
        again = " (probed once for this origin, shared by the gateways it serves)" if shared else ""
        self.recorder.note(probe.summary() + again, "SEC-TLS")
        return probe

    def plain_http(self) -> PlainHttpProbe:
        """One request over plain HTTP where the gateway's host takes it (its base URL, if that is plain)."""
        url = self.base_url if not self.over_https else self.target.plain_http
        probe = probe_plain_http(url, seconds=self._seconds, redactor=self.recorder.redactor)
        if probe.exchange is not None:
            self.recorder.log.add(probe.exchange)
        return probe

    def require_evaluated(self, unevaluated: list[str]) -> None:
        """Stop as not evaluated (never a pass) when part of a probe could not run."""
        if unevaluated:
            _not_evaluated("; ".join(unevaluated))

    @property
    def _seconds(self) -> float:
        return min(self.target.timeout_seconds, 10.0)


def _not_evaluated(reason: str) -> NoReturn:
    pytest.skip(f"{NOT_EVALUATED_PREFIX}{reason}")


@pytest.fixture
def transport(paycert_run: RunState, gateway_id: str, request: pytest.FixtureRequest) -> Transport:
    """The transport probes of the gateway this test runs against (no profile needed, nothing written)."""
    if gateway_id in paycert_run.unreachable:
        _not_evaluated(paycert_run.unreachable[gateway_id])
    stash = request.config.stash
    if _TLS_PROBES not in stash:
        stash[_TLS_PROBES] = {}
    return Transport(paycert_run.target.gateways[gateway_id], paycert_run.recorder, stash[_TLS_PROBES])
