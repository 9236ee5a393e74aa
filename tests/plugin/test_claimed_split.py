"""`paycert run -n`'s workers claim units from one shared queue as they free up (ClaimedSelection).

Real pytest sessions in subprocesses share a claim folder: each unit is run by exactly one of them, a worker
runs only what it claimed, and the session's fixtures live across the units a worker claims one after the
other (pytest is told each test's real successor, so nothing is torn down and set up again in between).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

MODULES = "abcde"  # five units of three tests: the queue is test_a.py ... test_e.py, in that order

CONFTEST = """
import json, os, time
from pathlib import Path

import pytest

from paycert.plugin.durations import Durations
from paycert.plugin.shard import ClaimedSelection, shard_info

WORKER = int(os.environ["CLAIM_WORKER"])
CLAIMS = Path(os.environ["CLAIMS"])
LOG = Path(os.environ["CLAIM_LOG"]) / f"worker-{WORKER}.log"


def note(line):
    with LOG.open("a") as log:
        log.write(line + "\\n")


def pytest_configure(config):
    selection = ClaimedSelection(WORKER, 2, Durations(""), lambda: [], lambda item: (), CLAIMS)
    config.pluginmanager.register(selection, "claimed")


def pytest_sessionfinish(session):
    note("claimed " + json.dumps(list(shard_info(session.config).claimed)))


@pytest.fixture(scope="session")
def session_state():
    note("session up")
    yield
    note("session down")


@pytest.fixture(scope="module", autouse=True)
def module_state(request, session_state):
    note(f"module up {request.module.__name__}")
    yield
    note(f"module down {request.module.__name__}")


@pytest.fixture(autouse=True)
def ran(request, module_state):
    note(f"ran {request.node.nodeid}")


@pytest.fixture
def another_worker_claimed_something():
    # Holds the queue's first unit until some other unit is claimed: by then the other worker runs too.
    deadline = time.monotonic() + 60
    while len(list(CLAIMS.iterdir())) < 2:
        assert time.monotonic() < deadline, "no other worker claimed a unit within 60 s"
        time.sleep(0.02)
"""


def make_suites(pytester: pytest.Pytester, *, first_waits: bool = False) -> list[str]:
    pytester.makeconftest(CONFTEST)
    for name in MODULES:
        waits = "another_worker_claimed_something" if first_waits and name == MODULES[0] else ""
        pytester.makepyfile(
            **{f"test_{name}": "".join(f"def test_{k}({waits if k == 0 else ''}): pass\n" for k in range(3))}
        )
    return [f"test_{name}.py::test_{k}" for name in MODULES for k in range(3)]


def start_worker(pytester: pytest.Pytester, worker: int, claims: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CLAIM_WORKER": str(worker),
        "CLAIMS": str(claims),
        "CLAIM_LOG": str(pytester.path),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(pytester.path)],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def log_of(pytester: pytest.Pytester, worker: int) -> list[str]:
    return (pytester.path / f"worker-{worker}.log").read_text().splitlines()


def ran_by(pytester: pytest.Pytester, worker: int) -> list[str]:
    return [line.split(" ", 1)[1] for line in log_of(pytester, worker) if line.startswith("ran ")]


def claimed_by(pytester: pytest.Pytester, worker: int) -> list[str]:
    line = next(line for line in log_of(pytester, worker) if line.startswith("claimed "))
    return list(json.loads(line.split(" ", 1)[1]))


def test_two_workers_at_once_run_each_test_exactly_once(pytester: pytest.Pytester) -> None:
    everything = make_suites(pytester, first_waits=True)
    claims = pytester.mkdir("claims")

    workers = [start_worker(pytester, k, claims) for k in (1, 2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    one, two = ran_by(pytester, 1), ran_by(pytester, 2)
    # The first unit's holder waited for the other worker to claim one: both ran something.
    assert one
    assert two
    assert not set(one) & set(two)
    assert sorted(one + two) == sorted(everything)
    assert sorted(claimed_by(pytester, 1)) == sorted(one)
    assert sorted(claimed_by(pytester, 2)) == sorted(two)
    assert sorted(p.name for p in claims.iterdir()) == [f"{n:05d}" for n in range(len(MODULES))]


def test_a_worker_runs_only_the_units_it_claimed_in_one_session(pytester: pytest.Pytester) -> None:
    make_suites(pytester)
    claims = pytester.mkdir("claims")
    for taken in (1, 3):  # test_b and test_d: another worker's already
        (claims / f"{taken:05d}").write_text("2\n")

    worker = start_worker(pytester, 1, claims)
    output = worker.communicate(timeout=120)[0]

    assert worker.returncode == 0, output
    assert "9 passed, 6 deselected" in output
    mine = [f"test_{name}.py::test_{k}" for name in "ace" for k in range(3)]
    assert claimed_by(pytester, 1) == mine
    # One session across the three units; each module's fixtures set up and torn down once, in turn.
    assert log_of(pytester, 1)[:-1] == [
        "session up",
        *[
            line
            for name in "ace"
            for line in (
                f"module up test_{name}",
                *(f"ran test_{name}.py::test_{k}" for k in range(3)),
                f"module down test_{name}",
            )
        ],
        "session down",
    ]
    assert {p.name: p.read_text() for p in claims.iterdir()} == {
        "00000": "1\n",
        "00001": "2\n",
        "00002": "1\n",
        "00003": "2\n",
        "00004": "1\n",
    }
