"""Certificates generated at start, so the sandbox serves real HTTPS that clients can verify."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class ServerCertificate:
    ca_file: Path  # give this to clients (httpx verify=, SSL_CERT_FILE, a target's `ca_file`)
    cert_file: Path
    key_file: Path


def generate(
    directory: Path, hostnames: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
) -> ServerCertificate:
    """A fresh CA and a server certificate for the loopback names, written under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="paycert sandbox CA")
    server = ca.issue_cert(*hostnames)
    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    server.private_key_pem.write_to_path(str(key_file))
    # The chain: leaf first, then the CA, so clients that only trust the CA can build it.
    cert_file.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    key_file.chmod(0o600)
    return ServerCertificate(ca_file=ca_file, cert_file=cert_file, key_file=key_file)
