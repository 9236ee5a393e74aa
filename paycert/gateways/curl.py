"""A curl command line that reproduces a request (built from already redacted parts)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

_SKIPPED = {"content-length", "host", "accept-encoding", "connection", "user-agent"}


def curl_line(method: str, url: str, headers: Mapping[str, str], body: str | None) -> str:
    parts = ["curl", "-sS", "-X", method.upper(), shlex.quote(url)]
    for name, value in headers.items():
        if name.lower() not in _SKIPPED:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-raw", shlex.quote(body)]
    return " ".join(parts)
