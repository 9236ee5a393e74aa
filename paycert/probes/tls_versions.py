"""SEC-TLS: which TLS versions a host really negotiates, and whether its certificate holds.

Each version is offered alone: a client context pinned to it (minimum = maximum) makes a real handshake and
sends one GET over it, so "accepted" means a session of exactly that version carried an HTTP answer. The
client lowers OpenSSL's security level so it can offer TLS 1.0 and 1.1 at all (Debian's default level has
no cipher for them); whether this machine can offer a version is asked of OpenSSL itself, in memory, before
anything is sent, so a version paycert could not offer is reported as not evaluated, never as refused.
The certificate is judged once, by a separate handshake that verifies it the way a client of the target
would (its `ca_file`, else the system trust store), with the host name checked.
"""

from __future__ import annotations

import datetime as dt
import shlex
import ssl
import time
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from paycert.core.evidence import Exchange
from paycert.probes.one_get import one_get
from paycert.redaction import Redactor

# The versions SEC-TLS offers, oldest first, by their number (as curl's --tlsv1.N flags name them).
VERSIONS: tuple[tuple[str, ssl.TLSVersion], ...] = (
    ("1.0", ssl.TLSVersion.TLSv1),
    ("1.1", ssl.TLSVersion.TLSv1_1),
    ("1.2", ssl.TLSVersion.TLSv1_2),
    ("1.3", ssl.TLSVersion.TLSv1_3),
)
REFUSED_VERSIONS = ("TLS 1.0", "TLS 1.1")
MODERN_VERSIONS = ("TLS 1.2", "TLS 1.3")

# OpenSSL's reasons that mean the server ended the handshake: an alert it sent, the connection it closed,
# a ServerHello of another version than the only one offered.
_SERVER_SAID = (
    "TLSV1_ALERT_",
    "SSLV3_ALERT_",
    "TLSV13_ALERT_",
    "UNEXPECTED_EOF",
    "WRONG_VERSION_NUMBER",
    "UNSUPPORTED_PROTOCOL",
)


class Handshaken(StrEnum):
    ACCEPTED = "accepted"  # a session of exactly this version was made and answered a request
    REFUSED = "refused"  # the server ended the handshake (an alert, a reset, a close)
    NOT_OFFERED = "not offered"  # this machine could not offer the version: nothing was sent
    NO_ANSWER = "no answer"  # the host could not be reached or did not finish in time


@dataclass(frozen=True)
class Handshake:
    """One version offered alone, and what the server made of it."""

    offered: str
    outcome: Handshaken
    negotiated: str = ""
    cipher: str = ""
    detail: str = ""
    exchange: Exchange | None = None  # the request sent over it; None when nothing left this machine

    def describe(self) -> str:
        if self.outcome is Handshaken.ACCEPTED:
            return f"{self.offered} accepted (negotiated {self.negotiated}, {self.cipher})"
        return f"{self.offered} {self.outcome.value}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class CertificateCheck:
    """The certificate as a verifying client sees it: trusted, for this host, not expired."""

    trusted: bool | None  # None: it could not be checked (the verifying handshake did not get that far)
    detail: str
    exchange: Exchange | None = None


@dataclass(frozen=True)
class TlsProbe:
    """What one HTTPS origin said to each TLS version, and its certificate."""

    origin: str
    handshakes: tuple[Handshake, ...]
    certificate: CertificateCheck

    def handshake(self, offered: str) -> Handshake:
        return next(h for h in self.handshakes if h.offered == offered)

    @property
    def findings(self) -> list[str]:
        """What breaks SEC-TLS, each a sentence for the report."""
        found = [
            f"{h.describe()}: it must be refused"
            for h in self.handshakes
            if h.offered in REFUSED_VERSIONS and h.outcome is Handshaken.ACCEPTED
        ]
        modern = [h for h in self.handshakes if h.offered in MODERN_VERSIONS]
        if all(h.outcome is Handshaken.REFUSED for h in modern):
            found.append(
                "neither TLS 1.2 nor TLS 1.3 was accepted: " + "; ".join(h.describe() for h in modern)
            )
        if self.certificate.trusted is False:
            found.append(f"the certificate of {self.origin} does not hold: {self.certificate.detail}")
        return found

    @property
    def unevaluated(self) -> list[str]:
        """What could not be probed: never a pass (a version this machine cannot offer, a host that hung)."""
        missing = [
            h.describe()
            for h in self.handshakes
            if h.outcome in (Handshaken.NOT_OFFERED, Handshaken.NO_ANSWER)
            and (h.offered in REFUSED_VERSIONS or not self._modern_accepted)
        ]
        if self.certificate.trusted is None:
            missing.append(f"certificate not checked ({self.certificate.detail})")
        return missing

    @property
    def _modern_accepted(self) -> bool:
        return any(h.outcome is Handshaken.ACCEPTED for h in self.handshakes if h.offered in MODERN_VERSIONS)

    @property
    def exchanges(self) -> list[Exchange]:
        made = [h.exchange for h in self.handshakes] + [self.certificate.exchange]
        return [e for e in made if e is not None]

    def summary(self) -> str:
        versions = "; ".join(h.describe() for h in self.handshakes)
        return f"{self.origin}: {versions}; certificate: {self.certificate.detail}"


def probe_tls(
    url: str, *, ca_file: Path | None = None, seconds: float = 10.0, redactor: Redactor | None = None
) -> TlsProbe:
    """Offer each TLS version alone to the origin of `url` (an https:// URL), then verify its certificate."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{url} is not an https:// URL: there is no TLS to probe")
    safe = redactor or Redactor()
    origin = f"https://{parts.netloc}"
    target = f"{origin}{parts.path.rstrip('/')}/"
    handshakes = tuple(
        offer(target, number, pinned_context(version), seconds=seconds, redactor=safe)
        for number, version in VERSIONS
    )
    return TlsProbe(origin, handshakes, _certificate(target, ca_file, seconds, safe))


def pinned_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client context that offers `version` and nothing else, without judging the certificate.

    The certificate is judged once, apart: here a bad one must not pass for a refused version.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Python deprecates pinning 1.0 and 1.1; offering them is exactly what this probe is for.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
        context.options &= ~(ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1)
    # Security level 0: OpenSSL 3 at Debian's level 2 has no cipher it would use with TLS 1.0 or 1.1.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def can_offer(context: ssl.SSLContext) -> str | None:
    """Why this machine cannot offer what `context` allows, or None when it can.

    OpenSSL writes a ClientHello into memory (no network): it either produces one, and then waits for the
    server's answer, or fails at once for want of a protocol or cipher.
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="paycert.invalid")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        return None if outgoing.pending else "OpenSSL wrote no ClientHello"
    except ssl.SSLError as exc:
        return f"{ssl.OPENSSL_VERSION}: {exc.reason or exc}"
    return None


def offer(
    url: str,
    number: str,
    context: ssl.SSLContext,
    *,
    seconds: float = 10.0,
    redactor: Redactor | None = None,
) -> Handshake:
    """One handshake with `context`, pinned to TLS `number` ("1.0"), and one GET over it."""
    redactor = redactor or Redactor()
    label = f"TLS {number}"
    cannot = can_offer(context)
    if cannot:
        return Handshake(
            label, Handshaken.NOT_OFFERED, detail=f"could not offer {label} from this machine: {cannot}"
        )
    curl = f"curl -sS -k -o /dev/null -w '%{{http_code}}\\n' --tlsv{number} --tls-max {number} {shlex.quote(url)}"
    started = time.monotonic()
    try:
        with one_get(url, verify=context, seconds=seconds) as response:
            session = response.extensions["network_stream"].get_extra_info("ssl_object")
            negotiated = str(session.version()) if session is not None else "?"
            cipher = str(session.cipher()[0]) if session is not None and session.cipher() else "?"
            exchange = _exchange(url, label, response, started, curl, redactor)
    except httpx.TransportError as exc:
        outcome, detail = _failed(exc)
        exchange = _exchange(
            url, label, None, started, curl, redactor, error=f"{label} {outcome.value}: {detail}"
        )
        return Handshake(label, outcome, detail=detail, exchange=exchange)
    return Handshake(label, Handshaken.ACCEPTED, negotiated, cipher, exchange=exchange)


def _failed(exc: httpx.TransportError) -> tuple[Handshaken, str]:
    """A failed handshake: refused by the server, or no answer (unreachable, timed out, broken off here).

    Only the server's own word is a refusal: an alert it sent, or a connection it closed or reset during
    the handshake. A failure after the handshake (no HTTP answer), or one this machine's OpenSSL raised
    itself (say, it would not accept the server's legacy signature after the server had agreed to TLS 1.0)
    proves nothing about what the server refuses.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return Handshaken.NO_ANSWER, "connection refused"
        if isinstance(exc, httpx.ConnectError) and isinstance(cause, ssl.SSLError):
            reason = str(cause.reason or type(cause).__name__)
            if isinstance(cause, ssl.SSLEOFError) or reason.startswith(_SERVER_SAID):
                return Handshaken.REFUSED, reason
            return Handshaken.NO_ANSWER, f"this machine broke off the handshake: {reason}"
        if isinstance(exc, httpx.ConnectError) and isinstance(cause, ConnectionResetError):
            return Handshaken.REFUSED, "the server reset the connection during the handshake"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.TimeoutException):
        return Handshaken.NO_ANSWER, f"timed out ({type(exc).__name__})"
    return Handshaken.NO_ANSWER, f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _certificate(url: str, ca_file: Path | None, seconds: float, redactor: Redactor) -> CertificateCheck:
    trust = f"the target's ca_file {ca_file.name}" if ca_file else "the system trust store"
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    cacert = f"--cacert {shlex.quote(str(ca_file))} " if ca_file else ""
    curl = f"curl -sS -o /dev/null -w '%{{http_code}}\\n' {cacert}{shlex.quote(url)}"
    label = f"certificate, verified against {trust}"
    started = time.monotonic()
    try:
        with one_get(url, verify=context, seconds=seconds) as response:
            session = response.extensions["network_stream"].get_extra_info("ssl_object")
            peer = session.getpeercert() if session is not None else None
            exchange = _exchange(url, label, response, started, curl, redactor)
    except httpx.TransportError as exc:
        verification = _verification_error(exc)
        if verification is not None:
            detail = f"{verification.verify_message} (verified against {trust})"
            return CertificateCheck(
                False, detail, _exchange(url, label, None, started, curl, redactor, error=detail)
            )
        _, why = _failed(exc)
        detail = f"the verifying handshake failed before the certificate was judged: {why}"
        return CertificateCheck(
            None, detail, _exchange(url, label, None, started, curl, redactor, error=detail)
        )
    host = urlsplit(url).hostname
    until = _not_after(peer)
    return CertificateCheck(True, f"valid for {host} until {until}, chains to {trust}", exchange)


def _verification_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _not_after(peer: object) -> str:
    raw = peer.get("notAfter") if isinstance(peer, dict) else None
    if not isinstance(raw, str):
        return "an unknown date"
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(raw), dt.UTC).date().isoformat()


def _exchange(
    url: str,
    label: str,
    response: httpx.Response | None,
    started: float,
    curl: str,
    redactor: Redactor,
    *,
    error: str | None = None,
) -> Exchange:
    """The request sent over one handshake, as evidence; no body is kept, only what the probe judged."""
    return Exchange(
        method="GET",
        url=redactor.url(url),
        request_headers={"accept": "*/*"},
        request_body=None,
        status=response.status_code if response is not None else None,
        response_headers=redactor.headers(dict(response.headers)) if response is not None else {},
        response_body=None,
        duration_ms=round((time.monotonic() - started) * 1000, 2),
        curl=curl,
        error=redactor.text(error) if error else None,
        label=f"SEC-TLS: {label}",
    )
