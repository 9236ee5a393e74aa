"""How one sandbox instance is set up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of one sandbox instance.

    `data_dir` holds what must survive a restart (the SQLite store with payments and the webhook outbox, the
    generated TLS certificates, the request log). `faults` names the misbehaviours switched on.
    """

    data_dir: Path
    faults: frozenset[str] = field(default_factory=frozenset)
    # How often the background worker looks for due webhooks and expired payments.
    tick_seconds: float = 0.05
    # Hosts besides loopback the sandbox may send to (webhooks, the merchant's reads); see egress.py.
    egress_hosts: frozenset[str] = field(default_factory=frozenset)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "sandbox.sqlite3"

    @property
    def request_log(self) -> Path:
        return self.data_dir / "requests.log"
