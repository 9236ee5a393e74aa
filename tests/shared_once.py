"""Work that many tests share, done once per test session however pytest-xdist spreads those tests.

A module-wide `paycert run` costs a minute. With xdist, a `scope="module"` fixture is set up once per worker
that runs a test of the module, and which tests go to which worker is the scheduler's business (pytest 9 with
xdist 3.8 stopped honouring `xdist_group` under `--dist loadgroup`, and four embedded runs ran at once). So the
work is keyed by name, done under an exclusive file lock in the session's shared temp folder, and its result
cached there as JSON: the first test to ask does it, every other (on any worker, or after a wait) reads it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["session_root", "shared_once"]


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temp folder every worker of this test session shares (xdist gives each worker a child of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_once(
    tmp_path_factory: pytest.TempPathFactory, key: str, produce: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """`produce(work_dir)` once per session for `key`; its JSON-able result for every caller.

    A `produce` that raises is not cached: the next caller tries again and gets its own error.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-") or "work"
    root = session_root(tmp_path_factory) / "shared-once"
    root.mkdir(parents=True, exist_ok=True)
    done = root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if done.is_file():
            cached: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
            return cached
        work = root / name
        work.mkdir(exist_ok=True)
        result = produce(work)
        partial = done.with_suffix(".part")
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(done)
        return result
