"""A run's id and its times: wanted before anything heavy is imported (`paycert run -n` names its run first)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_run_id(now: datetime | None = None) -> str:
    """`20261123T193000Z-ab12`: sortable by time, with a random tail so two runs in one second differ."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def utc_now_iso() -> str:
    """The current time as ISO-8601 UTC with a `Z`, to the second (what RunInfo's times hold)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
