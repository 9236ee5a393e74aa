"""Does a page tell the shopper what went wrong? 002 §6.2: a clear message, not only a status code.

A message is a line of the page's visible text that says what happened (matches the expected wording, by
default `FALLBACK`) in words: at least `MIN_WORDS` words written in lower case. A line such as
"Order PC-1: FAILED" or "HTTP 402 DECLINED" is a status code, not a message, so it never counts.
"""

from __future__ import annotations

import re

# Wording that says a payment did not go through, in any gateway's or merchant's words (case-insensitive).
FALLBACK = r"declin|refus|fail|not (be )?authori|could not"
# A message is a sentence: this many words with a lower-case letter (codes such as FAILED or 05 have none).
MIN_WORDS = 4
_WORD = re.compile(r"[a-z]")


def compile_wording(pattern: str | None) -> re.Pattern[str]:
    """The expected wording as a case-insensitive regex (`FALLBACK` when none is given)."""
    try:
        return re.compile(pattern or FALLBACK, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(
            f"the expected message {pattern!r} is not a valid regular expression: {exc}"
        ) from None


def find_message(text: str, wording: re.Pattern[str]) -> str | None:
    """The first line of `text` that tells the shopper what happened in `wording`'s words, or None."""
    for line in text.splitlines():
        words = [word for word in line.split() if _WORD.search(word)]
        if wording.search(line) and len(words) >= MIN_WORDS:
            return " ".join(line.split())
    return None
