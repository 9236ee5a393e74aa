"""A split run merged is the whole run: `paycert run --shard 1/2`, `--shard 2/2`, `paycert merge`, against
one unsplit `paycert run` of the same selection; and `paycert report` re-renders a run as it was written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from paycert.plugin.durations import load_reference
from tests.certification.runs import REPO, RUN_TIMEOUT_SECONDS, Run, paycert, shared_paycert

pytestmark = pytest.mark.slow

SELECTION = ("-s", "scenarios", "-s", "webhooks")


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return shared_paycert(tmp_path_factory, "shard-merge-whole", "run", *SELECTION)


def cells(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        c["id"]: (c["status"], {g: cell["status"] for g, cell in c["gateways"].items()})
        for c in document["criteria"]
    }


def run_ids(run_dir: Path) -> list[str]:
    return [r["nodeid"] for r in json.loads((run_dir / "results.json").read_text())]


def unit(nodeid: str) -> str:
    """A test's module: what the split keeps on one shard (unless it outweighs a shard's share)."""
    return nodeid.split("::", 1)[0]


def test_two_shards_merged_judge_every_criterion_as_the_whole_run(whole: Run, tmp_path: Path) -> None:
    assert whole.code in (0, 1, 2), whole.stderr
    assert whole.readiness["criteria"], whole.stderr
    shards = []
    for k in (1, 2):
        shard = paycert("run", *SELECTION, "--shard", f"{k}/2", report_dir=tmp_path / "shards")
        # A shard gates nothing: it ran (0), or paycert could not run all of it (2), as the whole run.
        assert shard.code == (2 if shard.readiness["harness_errors"] else 0), shard.stderr
        document = shard.readiness
        assert document["run"]["shard"]["index"] == k
        assert document["run"]["shard"]["total"] == 2
        assert f"shard {k} of 2" in document["verdict_reason"]
        assert f"Shard {k} of 2" in (shard.run_dir / "readiness.html").read_text()
        shards.append(shard.run_dir)

    # Each test ran on exactly one shard, and the two shards ran the whole run's tests.
    one, two = (set(run_ids(s)) for s in shards)
    assert not one & two
    assert one
    assert two
    assert one | two == set(run_ids(whole.run_dir))
    # A module's tests ran on one shard (what they share was built once) unless the module outweighs a
    # shard's share, and with no earlier whole run in the folder the reference durations balanced the split.
    reference = load_reference()
    weight: dict[str, float] = {}
    for nodeid in one | two:
        weight[unit(nodeid)] = weight.get(unit(nodeid), 0.0) + reference.get(nodeid, 0.0)
    share = sum(weight.values()) / 2
    whole_modules = {m for m, seconds in weight.items() if seconds <= share}
    assert whole_modules
    assert not {unit(n) for n in one} & {unit(n) for n in two} & whole_modules
    assert {
        json.loads((s / "readiness.json").read_text())["run"]["shard"]["durations_from"] for s in shards
    } == {"reference"}

    merged_dir = tmp_path / "merged"
    merged = subprocess.run(
        [sys.executable, "-m", "paycert", "merge", *map(str, shards), "-o", str(merged_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert merged.returncode == whole.code, merged.stderr
    document = json.loads((merged_dir / "readiness.json").read_text())
    assert cells(document) == cells(whole.readiness)
    assert document["verdict"] == whole.readiness["verdict"]
    assert document["verdict_reason"] == whole.readiness["verdict_reason"]
    assert document["run"]["merged_from"] == [s.name for s in shards]


def test_report_re_renders_the_same_html_as_the_run_wrote(whole: Run, tmp_path: Path) -> None:
    # A copy: the run is shared with the other test of this module.
    run_dir = tmp_path / "reports" / whole.run_dir.name
    shutil.copytree(whole.run_dir, run_dir)
    written = (run_dir / "readiness.html").read_text()
    (run_dir / "readiness.html").unlink()
    (run_dir / "junit.xml").unlink()

    done = subprocess.run(
        [sys.executable, "-m", "paycert", "report", str(run_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (run_dir / "junit.xml").is_file()
    again = (run_dir / "readiness.html").read_text()
    assert re.search(r'class="event-id"[^>]*>wh_[0-9a-f]{12}<', again)  # captured webhooks show their ids
    assert _without_times(again) == _without_times(written)
    assert json.loads((run_dir / "readiness.json").read_text())["verdict"] == whole.readiness["verdict"]


def _without_times(html: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?", "<time>", html)
