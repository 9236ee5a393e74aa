"""Ctrl-C and SIGTERM end a command the way a user expects: cleaned up, with the shell's exit code (130, 143).

Both signals become `Interrupted`, a KeyboardInterrupt, raised in the main thread: pytest treats it as Ctrl-C
(it ends the session, so the plugin still writes the report of what was measured), uvicorn shuts down and
raises it again once it has, and `finally` blocks run, so no temp folder is left behind. SIGTERM's default
would end the process at once, leaving the embedded sandbox's folder in the temp dir.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, ParamSpec

import typer

__all__ = ["Interrupted", "Received", "ending_on_signals", "exits_on_signals"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
P = ParamSpec("P")


class Interrupted(KeyboardInterrupt):
    """A SIGINT or SIGTERM, raised where the main thread was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


@dataclass
class Received:
    """The first signal a command received (None: none)."""

    signum: int | None = None
    actions: list[Callable[[], None]] = field(default_factory=list)

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else 128 + self.signum

    def stop_with(self, action: Callable[[], None]) -> None:
        """From now on the signal runs `action` instead of raising `Interrupted` (at once if it came already).

        For a command that has a way to stop cleanly (a server's flag). A raise lands wherever the main thread
        is: in a weakref callback or `__del__` Python ignores it, and a `paycert sandbox` so lost its SIGTERM
        and served on; inside asyncio's loop it broke `asyncio.run` with a traceback and exit 1. Both seen in
        CI or under load, with the signal arriving while uvicorn started.
        """
        self.actions.append(action)
        if self.signum is not None:
            action()


@contextmanager
def ending_on_signals() -> Iterator[Received]:
    """SIGINT and SIGTERM raise `Interrupted` inside the block; the handlers before it are restored after."""
    received = Received()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if received.signum is None:
            received.signum = signum
            for action in received.actions:
                action()
            if not received.actions:
                raise Interrupted(signum)
        # A second signal while the first one's cleanup runs is not raised: cleanup is bounded (the sandbox
        # stops within seconds), and cutting it short is what would leave the temp folder behind.

    previous = {s: signal.signal(s, interrupt) for s in SIGNALS}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def exits_on_signals(cleanup: Callable[[], None]) -> Callable[[Callable[P, Any]], Callable[P, None]]:
    """A Typer command that, on SIGINT/SIGTERM, runs `cleanup` and exits 130/143, whatever it was doing."""

    def decorate(command: Callable[P, Any]) -> Callable[P, None]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            with ending_on_signals() as received:
                try:
                    command(*args, **kwargs)
                except Interrupted:
                    pass  # said below, after the cleanup
                except typer.Exit:
                    if received.signum is None:
                        raise
                finally:
                    cleanup()
            if received.exit_code is not None:
                name = signal.Signals(received.signum or 0).name
                typer.echo(f"paycert: stopped by {name}", err=True)
                raise typer.Exit(received.exit_code)

        return wrapper

    return decorate
