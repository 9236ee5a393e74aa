"""The report's last line of defence: everything it writes passes through paycert.redaction once more.

Evidence is redacted when it is captured; this pass catches what slipped through (a reason quoting a response,
a harness error quoting a URL with a token) and the run's own secrets, which only the caller knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from paycert.redaction.redact import Redactor


class Scrubber:
    """Redacts strings, JSON-like values and whole serialized artifacts with one set of secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._redactor = Redactor([s for s in secrets if s])

    def text(self, text: str) -> str:
        return self._redactor.text(text)

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string redacted (keys that name secrets included, per the redactor)."""
        return self._redactor.json(value)

    def serialized(self, text: str, still_valid: Callable[[str], bool]) -> str:
        """A whole artifact once more, after its strings were redacted one by one before serialization.

        This pass only changes something when a secret survived in serialized form (split by escaping, say).
        If redacting it broke the artifact's syntax, fail closed: neither a leak nor a corrupt file is written.
        """
        redacted = self.text(text)
        if redacted == text or still_valid(redacted):
            return redacted
        raise ValueError("redacting the serialized report broke its syntax; refusing to write it")
