"""The run folder, `latest`, the previous run for the trend, and run ids."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from markupsafe import escape

from paycert.core.results import Outcome, TestResult
from paycert.core.run_ids import new_run_id
from paycert.report.readiness import build_readiness
from paycert.report.writer import LATEST, ReportPaths, load_readiness, previous_readiness, write_report
from tests.report.factory import CATALOGUE, all_passing, replace, result, run_info

FIRST, SECOND, THIRD = "20261123T193000Z-aaaa", "20261123T194500Z-bbbb", "20261124T080000Z-cccc"


def _write(root: Path, run_id: str, results: list[TestResult] | None = None) -> ReportPaths:
    run = run_info(run_id)
    return write_report(
        build_readiness(CATALOGUE, all_passing() if results is None else results, run), root, run_id
    )


def test_the_run_folder_holds_the_three_reports_and_allure_results(tmp_path: Path) -> None:
    paths = _write(tmp_path, FIRST)

    assert paths.run_dir == tmp_path / FIRST
    assert {p.name for p in paths.run_dir.iterdir()} == {
        "readiness.json",
        "readiness.html",
        "junit.xml",
        "allure-results",
    }
    assert load_readiness(paths.run_dir) == load_readiness(paths.json)
    assert load_readiness(paths.json)["run"]["run_id"] == FIRST


def test_a_worker_of_a_parallel_run_writes_the_data_alone_and_the_same_data(tmp_path: Path) -> None:
    # `paycert run -n` workers: only what the merge reads; the pages are rendered once, from the merged run.
    readiness = build_readiness(CATALOGUE, all_passing(), run_info(FIRST))
    paths = write_report(readiness, tmp_path / "worker", FIRST, data_only=True)
    whole = write_report(readiness, tmp_path / "serial", FIRST)

    assert {p.name for p in paths.run_dir.iterdir()} == {"readiness.json"}
    assert paths.json.read_bytes() == whole.json.read_bytes()


def test_latest_points_at_the_newest_run_by_a_relative_link(tmp_path: Path) -> None:
    _write(tmp_path, FIRST)
    _write(tmp_path, SECOND)

    latest = tmp_path / LATEST
    assert latest.is_symlink()
    assert os.readlink(latest) == SECOND
    assert load_readiness(latest)["run"]["run_id"] == SECOND
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_latest_falls_back_to_a_copy_without_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, FIRST)  # a symlink first: the copy must replace it

    def no_symlinks(self: Path, target: str, target_is_directory: bool = False) -> None:
        raise OSError("symlinks not supported here")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    _write(tmp_path, SECOND)
    latest = tmp_path / LATEST
    assert latest.is_dir()
    assert not latest.is_symlink()
    assert load_readiness(latest)["run"]["run_id"] == SECOND

    _write(tmp_path, THIRD)  # and a copy replaces a copy
    assert load_readiness(latest)["run"]["run_id"] == THIRD
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_previous_run_is_the_newest_earlier_one_with_a_report(tmp_path: Path) -> None:
    assert previous_readiness(tmp_path / "missing", FIRST) is None
    _write(tmp_path, FIRST)
    (tmp_path / "20261123T194000Z-dead").mkdir()  # an aborted run without readiness.json
    _write(tmp_path, THIRD)

    previous = previous_readiness(tmp_path, SECOND)
    assert previous is not None
    assert previous["run"]["run_id"] == FIRST
    assert previous_readiness(tmp_path, FIRST) is None


def test_the_trend_shows_what_changed_since_the_previous_run(tmp_path: Path) -> None:
    _write(tmp_path, FIRST)
    failing = replace(
        all_passing(), "PAY-3DS", "gustaffo", result("PAY-3DS", "gustaffo", Outcome.FAIL, "no challenge")
    )
    paths = _write(tmp_path, SECOND, failing)

    page = paths.html.read_text(encoding="utf-8")
    assert str(escape("PAY-3DS: pass -> fail")) in page
    assert str(escape("gustaffo: pass -> fail")) in page
    assert f"Previous run <code>{FIRST}</code>" in page
    assert '<span class="badge v-GO">GO</span>; this run is' in page
    assert "WH-SIG: " not in page  # unchanged criteria are not listed


def test_the_first_run_says_there_is_nothing_to_compare(tmp_path: Path) -> None:
    page = _write(tmp_path, FIRST).html.read_text(encoding="utf-8")

    assert "No previous run in this reports folder to compare with." in page


@pytest.mark.parametrize("bad", ["", "latest", "..", "a/b"])
def test_a_run_id_that_is_not_a_folder_name_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="run id"):
        _write(tmp_path, bad)


def test_new_run_ids_are_timestamped_and_distinct() -> None:
    ids = {new_run_id() for _ in range(20)}

    assert all(re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", i) for i in ids)
    assert len(ids) > 1


def test_the_trend_compares_only_with_a_run_of_the_same_target_and_selection(tmp_path: Path) -> None:
    from paycert.report.run import Selection

    webhooks_only = run_info(SECOND, selection=Selection(suites=("webhooks",)))
    write_report(build_readiness(CATALOGUE, all_passing(), run_info(FIRST)), tmp_path, FIRST)
    write_report(build_readiness(CATALOGUE, all_passing(), webhooks_only), tmp_path, SECOND)
    third = load_readiness(_write(tmp_path, THIRD).json)

    previous = previous_readiness(tmp_path, THIRD, like=third)
    assert previous is not None
    assert previous["run"]["run_id"] == FIRST  # not SECOND, a run of another selection
    assert previous_readiness(tmp_path, THIRD)["run"]["run_id"] == SECOND  # type: ignore[index]
