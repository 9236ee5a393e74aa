"""`ending_on_signals`: a command with a way to stop cleanly is stopped by it, not by a raise that can be lost.

A signal handler runs wherever the main thread is. Where that is a weakref callback or a `__del__`, Python
ignores what the handler raises: a `paycert sandbox` so lost its SIGTERM in CI and served on. Once the command
has given its stop action, the handler runs it instead of raising.
"""

from __future__ import annotations

import gc
import signal

import pytest

from paycert.cli.signals import Interrupted, ending_on_signals


class _RaisesTheSignalWhenCollected:
    def __del__(self) -> None:
        signal.raise_signal(signal.SIGTERM)  # the handler runs here, and its raise is ignored


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_signal_whose_interrupt_is_swallowed_still_runs_the_stop_action() -> None:
    stopped: list[str] = []
    with ending_on_signals() as received:
        received.stop_with(lambda: stopped.append("told to stop"))
        _RaisesTheSignalWhenCollected()  # collected at once: the signal lands in its __del__
        gc.collect()

    assert received.signum == signal.SIGTERM
    assert received.exit_code == 143
    assert stopped == ["told to stop"]


def test_with_a_stop_action_the_signal_raises_nothing() -> None:
    stopped: list[str] = []
    with ending_on_signals() as received:
        received.stop_with(lambda: stopped.append("told to stop"))
        signal.raise_signal(signal.SIGTERM)
        stopped.append("went on to stop cleanly")

    assert stopped == ["told to stop", "went on to stop cleanly"]
    assert received.exit_code == 143


def test_without_a_stop_action_the_signal_interrupts() -> None:
    with pytest.raises(Interrupted), ending_on_signals():
        signal.raise_signal(signal.SIGTERM)


def test_a_stop_action_given_after_the_signal_runs_at_once() -> None:
    stopped: list[str] = []
    with pytest.raises(Interrupted), ending_on_signals() as received:
        signal.raise_signal(signal.SIGINT)
    received.stop_with(lambda: stopped.append("told to stop"))

    assert received.exit_code == 130
    assert stopped == ["told to stop"]


def test_the_handlers_before_the_block_are_back_after_it() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with ending_on_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
