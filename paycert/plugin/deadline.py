"""The run's own deadline (`--max-duration`): past it nothing new starts, and what was measured is reported.

Two stops, because most of a run's time is spent waiting on the target:
- soft, at the deadline: no test starts (each is recorded `not_evaluated` with the reason) and the gateway
  client sends nothing more (a request in progress already ends by the deadline: see targets/bounds.py);
- hard, a grace period later, for a test stuck elsewhere (a webhook wait, a browser, a generated-test
  engine): SIGALRM interrupts it the way Ctrl-C would, so pytest ends the session and the report is written.
The report then names the deadline as the first harness error, which makes the run exit 2, never GO.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

import pytest

from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.targets.bounds import Deadline

OPTION = "--paycert-max-duration"


class RunOutOfTime(KeyboardInterrupt):
    """Raised in the main thread at the hard stop; pytest treats it as an interrupt and writes the report."""


def grace_seconds(max_duration: float) -> float:
    """How long past the deadline a stuck test may take to notice it: a tenth, within 2 to 30 s."""
    return max(2.0, min(30.0, max_duration / 10))


def install(config: pytest.Config, state: RunState) -> None:
    """Give the run its deadline when `--paycert-max-duration` is set (`paycert run` always sets it)."""
    seconds = config.getoption(OPTION)
    if seconds is None:
        return
    started = config.getoption("--paycert-run-started")
    at = (time.monotonic() if started is None else float(started)) + float(seconds)
    state.deadline = Deadline(at, f"the run's --max-duration of {float(seconds):g} s")
    config.pluginmanager.register(RunDeadline(state, grace_seconds(float(seconds))), "paycert-deadline")


class RunDeadline:
    """A pytest plugin object holding the two stops."""

    def __init__(self, state: RunState, grace: float) -> None:
        assert state.deadline is not None
        self.state = state
        self.deadline: Deadline = state.deadline
        self.grace = grace
        self.not_started = 0
        self._previous: Any = None
        self._armed = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only; the soft stop still holds
        self._previous = signal.signal(signal.SIGALRM, self._hard_stop)
        signal.setitimer(signal.ITIMER_REAL, max(self.deadline.remaining(), 0.0) + self.grace)
        self._armed = True

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # Registered after the main plugin, so this runs after its setup (which records the test) and before
        # any fixture: a test past the deadline costs nothing and is reported with the reason.
        if self.deadline.passed:
            self.not_started += 1
            pytest.skip(f"{NOT_EVALUATED_PREFIX}{self.deadline.what} ran out before this test started")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Before the report is written: disarm the hard stop, and say why the rest was not evaluated."""
        self._disarm()
        if not self.deadline.passed:
            return
        line = (
            f"{self.deadline.what} ran out: what was measured is in the report, the rest was not evaluated"
            + (f" ({self.not_started} tests never started)" if self.not_started else "")
        )
        if line not in self.state.harness_errors:
            self.state.harness_errors.insert(0, line)  # the cause first: the CLI shows the first one

    def _disarm(self) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous if self._previous is not None else signal.SIG_DFL)
            self._armed = False

    def _hard_stop(self, signum: int, frame: FrameType | None) -> None:
        self._disarm()
        raise RunOutOfTime(f"{self.deadline.what} ran out")
