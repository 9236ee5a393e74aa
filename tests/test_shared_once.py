"""Tests that share one module-wide run start it once, whatever `-n` is and however xdist deals them out."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]

# Two modules of six tests each share one piece of work per module; each time the work really runs it leaves
# a line in a file outside the session, so the test can count how often it ran.
SHARING_MODULE = """
import os
from pathlib import Path

import pytest

from tests.shared_once import shared_once

COUNTER = Path(os.environ["SHARED_ONCE_COUNTER"])


def _work(work_dir):
    with COUNTER.open("a") as counter:
        counter.write("{key}\\n")
    (work_dir / "made").write_text("yes")
    return {{"made_in": str(work_dir)}}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_once(tmp_path_factory, "{key}", _work)


@pytest.mark.parametrize("n", range(6))
def test_uses_the_shared_work(shared, n):
    assert (Path(shared["made_in"]) / "made").read_text() == "yes"
"""


@pytest.mark.parametrize("workers", ["0", "2", "4"])
def test_shared_work_is_done_once_per_key_whatever_the_number_of_workers(
    pytester: pytest.Pytester, workers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = tmp_path / "counter.txt"
    monkeypatch.setenv("SHARED_ONCE_COUNTER", str(counter))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(
        test_first=SHARING_MODULE.format(key="first-run"), test_second=SHARING_MODULE.format(key="second-run")
    )

    # `--dist load` spreads the tests of one module over the workers.
    result = pytester.runpytest_subprocess("-n", workers, "--dist", "load", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=12)
    assert sorted(counter.read_text().split()) == ["first-run", "second-run"]
