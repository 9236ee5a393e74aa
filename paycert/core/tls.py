"""One SSL context per CA file for the whole process: building one costs milliseconds of CPU (it parses the
bundle), and a run used to build one per request (221 per run, 4.9 s CPU, issue 15). Every client in the
library gets its `verify=` here, so the rule lives in one place."""

from __future__ import annotations

import functools
import ssl
from pathlib import Path

__all__ = ["context_for", "verifier"]


def verifier(ca_file: str | Path | None) -> ssl.SSLContext | bool:
    """What to pass as httpx's `verify=`: the shared context trusting `ca_file`, or True (the system's trust)
    when there is none. The context is shared: callers must not change it (a probe that narrows TLS versions
    builds its own)."""
    if not ca_file:
        return True
    return context_for(ca_file)


def context_for(ca_file: str | Path) -> ssl.SSLContext:
    """The shared context trusting `ca_file` (for clients that take only a context, such as websockets)."""
    return _context(str(ca_file))


@functools.lru_cache(maxsize=16)
def _context(ca_file: str) -> ssl.SSLContext:
    # Keyed by path: a target's CA file does not change while a run reads it (a new sandbox writes a new dir).
    return ssl.create_default_context(cafile=ca_file)
