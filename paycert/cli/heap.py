"""The garbage collector during `paycert run`: paused while the run loads, then kept off what it loaded.

A run loads a large, long-lived heap before its first test (pytest, the suites and what they import, FastAPI
and the embedded sandbox, the target's specs) and keeps it to the end. CPython's collector ran a full pass over
all of it again and again while it grew, and pytest ends its session with five more (its unraisable-exception
check): 0.4 s of CPU of a one-criterion run that takes 1.6 s (issue 15). So the collector is off while the run
loads, and once the tests are collected what is loaded is frozen (`gc.freeze`: left out of every later pass)
and the collector is on again for the tests, which is when garbage is made. Loading makes little cyclic
garbage; what it made stays until the command ends, instead of being collected.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pytest

__all__ = ["CollectorBack", "pause_collector", "restores_collector"]

P = ParamSpec("P")
R = TypeVar("R")


def pause_collector() -> None:
    """No collector passes from here until the tests are collected (`CollectorBack`) or the command ends."""
    gc.disable()


class CollectorBack:
    """A pytest plugin object: once the tests are collected, freeze what was loaded and collect again."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        gc.freeze()
        gc.enable()


def restores_collector(command: Callable[P, R]) -> Callable[P, R]:
    """The command leaves the collector as it found it (on or off, nothing frozen), however it ends: `run`
    may be called in a process that goes on (a test calling the CLI in-process)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        try:
            return command(*args, **kwargs)
        finally:
            gc.unfreeze()
            if was_enabled:
                gc.enable()
            else:
                gc.disable()

    return wrapper
