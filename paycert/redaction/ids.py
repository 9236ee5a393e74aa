"""Ids paycert derives from a digest, chosen so that the redaction leaves them as they are.

A hex digest or uuid holds a Luhn-valid run of 13 or more digits about one time in 250, and the redaction
masks that run like a card number wherever it is written. An id that a report stores and a program later
compares or follows (a file name, a history key, a collection digest) must not change on the way.
"""

from __future__ import annotations

from collections.abc import Callable

from paycert.redaction.redact import redact_text


def unmasked_id(make: Callable[[str], str], seed: str) -> str:
    """The first of make(seed), make(seed + "#1"), ... that the redaction leaves as it is.

    The same seed always gives the same id, and one that never needed a second try is the plain digest it
    always was, so ids written before stay valid.
    """
    candidate, attempt = make(seed), 0
    while redact_text(candidate) != candidate:
        attempt += 1
        candidate = make(f"{seed}#{attempt}")
    return candidate
