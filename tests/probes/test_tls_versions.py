"""SEC-TLS's probe against real HTTPS servers on loopback: what each one negotiates, and its certificate."""

from __future__ import annotations

import datetime as dt
import ssl
import warnings
from pathlib import Path

import pytest
import trustme

from paycert.probes.tls_versions import (
    CertificateCheck,
    Handshake,
    Handshaken,
    TlsProbe,
    can_offer,
    offer,
    pinned_context,
    probe_tls,
)
from tests.probes.servers import closed_port, serving

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="paycert probe tests")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def outcomes(probe: TlsProbe) -> dict[str, str]:
    return {h.offered: h.outcome.value for h in probe.handshakes}


def test_a_server_with_a_tls_1_2_floor_refuses_1_0_and_1_1_and_accepts_1_2_and_1_3(
    ca: trustme.CA, ca_file: Path
) -> None:
    with serving(certificate=ca.issue_cert("127.0.0.1")) as url:
        probe = probe_tls(url, ca_file=ca_file)

    assert outcomes(probe) == {
        "TLS 1.0": "refused",
        "TLS 1.1": "refused",
        "TLS 1.2": "accepted",
        "TLS 1.3": "accepted",
    }
    assert probe.handshake("TLS 1.2").negotiated == "TLSv1.2"
    assert probe.handshake("TLS 1.3").negotiated == "TLSv1.3"
    assert probe.certificate.trusted is True, probe.certificate.detail
    assert probe.findings == []
    assert probe.unevaluated == []
    # Every handshake sent a request that is evidence: the refused ones with the server's refusal.
    assert [e.status for e in probe.exchanges] == [None, None, 200, 200, 200]
    assert "--tlsv1.0 --tls-max 1.0" in probe.exchanges[0].curl


def test_a_legacy_server_really_negotiates_tls_1_0_and_1_1_and_the_probe_says_so(
    ca: trustme.CA, ca_file: Path
) -> None:
    with serving(certificate=ca.issue_cert("127.0.0.1"), legacy=True) as url:
        probe = probe_tls(url, ca_file=ca_file)

    assert probe.handshake("TLS 1.0").outcome is Handshaken.ACCEPTED
    assert probe.handshake("TLS 1.0").negotiated == "TLSv1"  # what OpenSSL really made, not what was asked
    assert probe.handshake("TLS 1.1").negotiated == "TLSv1.1"
    assert len(probe.findings) == 2
    assert probe.findings[0].startswith("TLS 1.0 accepted (negotiated TLSv1,")
    assert probe.findings[1].startswith("TLS 1.1 accepted (negotiated TLSv1.1,")


def test_an_expired_certificate_is_a_finding(ca: trustme.CA, ca_file: Path) -> None:
    expired = ca.issue_cert(
        "127.0.0.1", not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1)
    )
    with serving(certificate=expired) as url:
        probe = probe_tls(url, ca_file=ca_file)

    assert probe.certificate.trusted is False
    assert "certificate has expired" in probe.certificate.detail
    assert [f for f in probe.findings if "expired" in f], probe.findings
    # The versions are judged apart from the certificate: a bad one does not pass for a refused version.
    assert probe.handshake("TLS 1.2").outcome is Handshaken.ACCEPTED


def test_a_certificate_for_another_host_is_a_finding(ca: trustme.CA, ca_file: Path) -> None:
    with serving(certificate=ca.issue_cert("payments.example.com")) as url:
        probe = probe_tls(url, ca_file=ca_file)

    assert probe.certificate.trusted is False
    assert "127.0.0.1" in probe.certificate.detail  # OpenSSL: not valid for '127.0.0.1'
    assert any("does not hold" in f for f in probe.findings)


def test_a_certificate_from_an_untrusted_ca_is_a_finding(ca_file: Path) -> None:
    stranger = trustme.CA(organization_name="not the target's CA")
    with serving(certificate=stranger.issue_cert("127.0.0.1")) as url:
        probe = probe_tls(url, ca_file=ca_file)

    assert probe.certificate.trusted is False
    assert "issuer" in probe.certificate.detail or "self-signed" in probe.certificate.detail


def test_a_host_that_takes_no_connection_is_not_evaluated_never_passed() -> None:
    with closed_port() as port:
        probe = probe_tls(f"https://127.0.0.1:{port}/api")

    assert {h.outcome for h in probe.handshakes} == {Handshaken.NO_ANSWER}
    assert probe.findings == []
    assert len(probe.unevaluated) == 5  # four versions and the certificate


def test_this_machine_offers_tls_1_0_only_with_the_probes_own_context() -> None:
    assert can_offer(pinned_context(ssl.TLSVersion.TLSv1)) is None
    python_default = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # Python's cipher list has no SHA-1 cipher
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        python_default.minimum_version = python_default.maximum_version = ssl.TLSVersion.TLSv1
    assert "NO_CIPHERS_AVAILABLE" in str(can_offer(python_default))


def test_a_version_this_machine_cannot_offer_is_not_offered_and_nothing_is_sent(ca: trustme.CA) -> None:
    python_default = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        python_default.minimum_version = python_default.maximum_version = ssl.TLSVersion.TLSv1
    with serving(certificate=ca.issue_cert("127.0.0.1"), legacy=True) as url:
        handshake = offer(url, "1.0", python_default)

    assert handshake.outcome is Handshaken.NOT_OFFERED
    assert handshake.detail.startswith("could not offer TLS 1.0 from this machine")
    assert handshake.exchange is None


def test_a_handshake_this_machine_broke_off_is_not_a_refusal(ca: trustme.CA) -> None:
    # At security level 1 OpenSSL offers TLS 1.0, the legacy server agrees, and then this client rejects the
    # server's SHA-1 signature itself: the server refused nothing.
    level_1 = pinned_context(ssl.TLSVersion.TLSv1)
    level_1.set_ciphers("DEFAULT:@SECLEVEL=1")
    with serving(certificate=ca.issue_cert("127.0.0.1"), legacy=True) as url:
        handshake = offer(url, "1.0", level_1)

    assert handshake.outcome is Handshaken.NO_ANSWER, handshake.describe()
    assert "this machine broke off the handshake" in handshake.detail


def test_a_version_this_machine_could_not_offer_is_not_evaluated_even_if_all_else_passed() -> None:
    accepted = Handshake("TLS 1.2", Handshaken.ACCEPTED, "TLSv1.2", "AES")
    probe = TlsProbe(
        "https://gateway.example",
        (
            Handshake("TLS 1.0", Handshaken.NOT_OFFERED, detail="could not offer TLS 1.0 from this machine"),
            Handshake("TLS 1.1", Handshaken.REFUSED),
            accepted,
            Handshake("TLS 1.3", Handshaken.ACCEPTED, "TLSv1.3", "AES"),
        ),
        CertificateCheck(True, "valid"),
    )
    assert probe.findings == []
    assert probe.unevaluated == ["TLS 1.0 not offered (could not offer TLS 1.0 from this machine)"]


def test_a_plain_http_url_has_no_tls_to_probe() -> None:
    with pytest.raises(ValueError, match="not an https:// URL"):
        probe_tls("http://127.0.0.1:1/api")
