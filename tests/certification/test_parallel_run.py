"""`paycert run -n 2`: two shard workers at once, each with its own embedded sandbox, merged into one report
that judges every criterion and gateway as the serial run does."""

from __future__ import annotations

from pathlib import Path

import pytest

from paycert.cli.parallel import worker_argv
from tests.certification.runs import Run, paycert

SELECTION = ("-s", "scenarios", "-s", "webhooks")


def cells(run: Run) -> dict[str, dict[str, str]]:
    return {
        c["id"]: {gateway: cell["status"] for gateway, cell in c["gateways"].items()}
        for c in run.readiness["criteria"]
    }


@pytest.mark.slow
def test_two_workers_give_the_verdict_and_criteria_of_the_serial_run(tmp_path: Path) -> None:
    serial = paycert("run", *SELECTION, report_dir=tmp_path / "serial")
    parallel = paycert("run", "-n", "2", *SELECTION, report_dir=tmp_path / "parallel")

    assert serial.code == 0, serial.last_stderr_line()
    assert parallel.code == serial.code, parallel.stdout[-3000:]
    assert parallel.readiness["verdict"] == serial.readiness["verdict"] == "GO"
    assert cells(parallel) == cells(serial)
    assert len(parallel.readiness["run"]["merged_from"]) == 2
    assert "[1/2]" in parallel.stdout
    assert "[2/2]" in parallel.stdout
    # One table and one verdict, the merged ones: a worker's own would call its neighbour's tests not evaluated.
    assert parallel.stdout.count("go-live criteria") == 1
    assert "This is shard" not in parallel.stdout
    # A fresh report folder has no earlier whole run: the split is balanced by paycert's reference durations.
    assert "balanced by paycert's reference durations" in parallel.stdout


@pytest.mark.slow
def test_a_fault_the_workers_see_turns_the_same_criterion_red_as_serially(tmp_path: Path) -> None:
    args = ("--sandbox-fault", "bad-signature", "-s", "webhooks", "-g", "gustaffo")
    serial = paycert("run", *args, report_dir=tmp_path / "serial")
    parallel = paycert("run", "-n", "2", *args, report_dir=tmp_path / "parallel")

    assert serial.code == parallel.code == 1
    assert parallel.with_status("fail") == serial.with_status("fail") == {"WH-SIGNATURE"}


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["-n", "2", "-s", "scenarios"], ["-s", "scenarios"]),
        (["-n2", "--report-dir", "out", "-g", "gustaffo"], ["-g", "gustaffo"]),
        (["--workers=3", "--report-dir=out", "--durations-from", "r/1", "--tls"], ["--tls"]),
    ],
)
def test_each_worker_gets_the_run_s_options_but_not_the_ones_the_parent_sets(
    given: list[str], kept: list[str]
) -> None:
    assert worker_argv(given) == kept


def test_workers_cannot_be_combined_with_a_shard(tmp_path: Path) -> None:
    run = paycert("run", "-n", "2", "--shard", "1/2", report_dir=tmp_path / "r")

    assert run.code == 2
    assert "cannot be combined with --shard" in run.last_stderr_line()


def test_durations_that_cannot_be_read_stop_the_run_before_any_worker_starts(tmp_path: Path) -> None:
    run = paycert("run", "-n", "2", "--durations-from", str(tmp_path / "nothing"), report_dir=tmp_path / "r")

    assert run.code == 2
    assert "no readable results.json" in run.last_stderr_line()
    assert "[1/2]" not in run.stdout
