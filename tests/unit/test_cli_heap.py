"""`paycert run` pauses the garbage collector while it loads and freezes what it loaded, and leaves the
collector as it found it however the command ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from paycert.cli.heap import CollectorBack, pause_collector, restores_collector


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_the_tests_run_with_the_collector_on_and_the_loaded_heap_frozen() -> None:
    pause_collector()
    assert not gc.isenabled()

    CollectorBack().pytest_collection_finish(session=None)  # type: ignore[arg-type]

    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize("ending", ["returns", "raises"])
def test_the_command_leaves_the_collector_on_and_nothing_frozen(ending: str) -> None:
    gc.enable()

    @restores_collector
    def command() -> str:
        pause_collector()
        gc.freeze()
        if ending == "raises":
            raise RuntimeError("the run stopped")
        return "done"

    if ending == "raises":
        with pytest.raises(RuntimeError):
            command()
    else:
        assert command() == "done"

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()

    @restores_collector
    def command() -> None:
        CollectorBack().pytest_collection_finish(session=None)  # type: ignore[arg-type]

    command()

    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
