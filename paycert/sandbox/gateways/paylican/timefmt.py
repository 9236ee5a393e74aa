"""Paylican's timestamps: Java `ZonedDateTime` in UTC, as the seed's examples print them."""

from __future__ import annotations

from datetime import UTC, datetime


def zoned(epoch_seconds: float) -> str:
    """`2024-03-28T14:32:47.238686Z`: ISO 8601 with microseconds and a `Z` zone."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def year_of(epoch_seconds: float) -> int:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).year
