"""Turning pytest's view of a test into paycert's: pass, fail, not applicable, not evaluated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from paycert.core.errors import LiveWriteRefused, NotApplicable, PaycertError
from paycert.core.results import Outcome

NOT_EVALUATED_PREFIX = "not evaluated: "


class NotApplicableSkip(pytest.skip.Exception):  # type: ignore[misc,name-defined]  # pytest's public name for its Skipped
    """A NotApplicable as pytest sees it: a skip, with the reason.

    Raised in NotApplicable's place as the test's phase ends (see `as_skip`). A skip is what pytest reports
    without rendering a traceback; any other exception has its whole traceback formatted, source lines read
    from disk, before paycert's report hook can say "not applicable" (~10 ms a test, issue 15).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@contextmanager
def as_skip() -> Iterator[None]:
    """Turn a NotApplicable raised inside into a NotApplicableSkip (the reason kept, the chain dropped)."""
    try:
        yield
    except NotApplicable as exc:
        raise NotApplicableSkip(exc.reason) from None


def classify(call: pytest.CallInfo[None], when: str) -> tuple[Outcome, str, bool]:
    """(outcome, reason, harness_error) for one phase that raised, or passed when nothing did.

    A failed assertion is the gateway's fault; a PaycertError (unreachable, bad answer we cannot read) means
    paycert could not evaluate; any other exception is a harness error, never blamed on the gateway and
    never a pass.
    """
    excinfo = call.excinfo
    if excinfo is None:
        return Outcome.PASS, "", False
    exc = excinfo.value
    if isinstance(exc, (NotApplicable, NotApplicableSkip)):
        return Outcome.NOT_APPLICABLE, exc.reason, False
    if excinfo.errisinstance(pytest.skip.Exception):
        message = str(getattr(exc, "msg", exc))
        if message.startswith(NOT_EVALUATED_PREFIX):
            return Outcome.NOT_EVALUATED, message.removeprefix(NOT_EVALUATED_PREFIX), False
        return Outcome.NOT_EVALUATED, message, False
    if isinstance(exc, AssertionError) and when == "call":
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "assertion failed"
        return Outcome.FAIL, first, False
    if isinstance(exc, LiveWriteRefused):
        return Outcome.NOT_EVALUATED, str(exc), False  # the run chose not to write: nothing is broken
    if isinstance(exc, PaycertError):
        return Outcome.NOT_EVALUATED, str(exc), True
    return Outcome.NOT_EVALUATED, f"harness error ({type(exc).__name__}: {str(exc)[:300]})", True
