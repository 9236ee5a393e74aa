"""The embedded default: start the reference sandbox on loopback and describe it as a target."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from paycert.cli.sandbox_cmd import env_name

# The sandbox (FastAPI, uvicorn, its gateways) is imported when one is started, not when the CLI assembles
# its commands: `paycert --help` and a run against a target file should not pay ~0.5 s for it (issue 15).
if TYPE_CHECKING:
    from paycert.sandbox import SandboxServer
from paycert.targets.home import find_home

# The embedded sandbox's working folder; `stop_embedded` removes only folders named so.
WORK_PREFIX = "paycert-embedded-"
# Every working folder made and not yet removed, with its server once started: what `stop_all_embedded`
# cleans up when a signal ends the command wherever it was (even between mkdtemp and the server's start).
_LEFT: dict[Path, SandboxServer | None] = {}


def start_embedded(faults: frozenset[str] = frozenset(), *, tls: bool = False) -> tuple[SandboxServer, Path]:
    """A sandbox on a free loopback port and a target file for it (credentials exported to this process)."""
    from paycert.sandbox import SandboxConfig, SandboxServer
    from paycert.sandbox.faults import Faults
    from paycert.sandbox.gateways import GATEWAYS

    Faults.from_names(faults)  # an unknown fault (UnknownFaultError) stops here, before anything is made
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
    _LEFT[work] = None
    try:
        server = SandboxServer(SandboxConfig(work / "sandbox", faults=faults), tls=tls)
        _LEFT[work] = server
        server.start()
    except BaseException:
        stop_all_embedded()
        raise
    gateways: dict[str, Any] = {}
    for module in GATEWAYS:
        gid = module.PREFIX.strip("/")
        credentials = {}
        for name, value in module.CREDENTIALS.items():
            variable = env_name(gid, name)
            os.environ[variable] = value  # the sandbox's public test credentials, for this process only
            credentials[name] = variable
        entry: dict[str, Any] = {
            "base_url": f"{server.base_url}{module.PREFIX}",
            "environment": "sandbox",
            "control_url": f"{server.base_url}/_sandbox",
            "credentials": credentials,
        }
        other = getattr(module, "OTHER_CREDENTIALS", None)
        if other:
            # SEC-ACCESS: a second test client of the sandbox that is not the merchant's (public values too).
            entry["other_client"] = {}
            for name, value in other.items():
                variable = env_name(gid, f"other_{name}")
                os.environ[variable] = value
                entry["other_client"][name] = variable
        if server.ca_file:
            entry["ca_file"] = str(server.ca_file)
        if server.plain_http_url:
            # SEC-HTTPS sends plain HTTP here: the sandbox's own plain listener, not port 80 of loopback.
            entry["plain_http_url"] = f"{server.plain_http_url}{module.PREFIX}"
        gateways[gid] = entry
    document = {
        "name": "embedded reference sandbox",
        "gateways": gateways,
        "merchant": _merchant(server),
        # The sandbox's operator is paycert itself: the example attestations speak for it, so the default
        # run judges the ATT-* criteria too (--attestations FILE replaces them).
        "attestations": str(find_home() / "fixtures" / "attestations.example.yaml"),
    }
    target = work / "embedded-target.yaml"
    target.write_text(
        yaml.safe_dump(document, sort_keys=False),
        encoding="utf-8",
    )
    return server, target


def _merchant(server: SandboxServer) -> dict[str, Any]:
    """The sandbox's reference merchant, with the webhook secrets it verifies with (exported like credentials)."""
    from paycert.sandbox.merchant import PREFIX as MERCHANT_PREFIX
    from paycert.sandbox.merchant import WEBHOOK_SECRETS as MERCHANT_WEBHOOK_SECRETS

    base = f"{server.base_url}{MERCHANT_PREFIX}"
    entry: dict[str, Any] = {
        "base_url": base,
        "control_url": f"{server.base_url}/_sandbox",
        # Seed 004 §3.2: the reference merchant pushes each order's status to the browser (MER-PUSH).
        "push_url": base.replace("http", "ws", 1) + "/ws/orders/{orderId}",
        "gateways": {},
    }
    for gid, secret in MERCHANT_WEBHOOK_SECRETS.items():
        variable = env_name("merchant", f"{gid}_webhook_secret")
        os.environ[variable] = secret  # a public sandbox value, for this process only
        entry["gateways"][gid] = {"webhook_secret": variable}
    if server.ca_file:
        entry["ca_file"] = str(server.ca_file)
    return entry


def stop_embedded(server: SandboxServer | None) -> None:
    """Stop the embedded sandbox and remove its working folder (its data, certificates and target file).

    The run's evidence is in the report; a sandbox made for one run leaves nothing behind in the temp dir.
    """
    if server is None:
        return
    server.stop()
    work = server.config.data_dir.parent
    _LEFT.pop(work, None)
    if work.name.startswith(WORK_PREFIX):
        shutil.rmtree(work, ignore_errors=True)


def stop_all_embedded() -> None:
    """Stop every embedded sandbox this process started and remove every working folder it made."""
    for work, server in list(_LEFT.items()):
        if server is not None:
            server.stop()
        _LEFT.pop(work, None)
        shutil.rmtree(work, ignore_errors=True)
