"""`paycert merge` of shard reports the real writer wrote: the whole run's judgement, refusals, gaps."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from paycert.cli.main import app
from paycert.core.results import TestResult
from paycert.redaction import redact_text
from paycert.report import ShardInfo, build_readiness, write_report
from paycert.report.merge import load_shard, merge_shards
from paycert.report.run import Selection, collection_digest
from paycert.report.writer import write_results
from tests.report.factory import CATALOGUE, GATEWAYS, IDS, all_passing, result, run_info

runner = CliRunner()
SCOPED = Selection(suites=("scenarios",))


def shard_run(
    root: Path,
    index: int,
    results: list[TestResult],
    total: int = 2,
    claimed: tuple[str, ...] | None = None,
    collected: tuple[str, ...] = (),
    **over: Any,
) -> Path:
    """One shard's run folder; `claimed` (with the whole `collected`) makes it a worker of `paycert run -n`."""
    run_id = f"2026120{index}T000000Z-000{index}"
    digest = collection_digest(collected) if collected else "c0ffee"
    info = ShardInfo(index, total, len(collected) or 10, digest, scope=IDS, claimed=claimed)
    own = tuple(dict.fromkeys(c for r in results for c in r.criteria))
    run = run_info(run_id, selection=SCOPED, in_scope=own, shard=info, **over)
    write_results(root / run_id, results)
    write_report(build_readiness(CATALOGUE, results, run), root, run_id)
    return root / run_id


def halves() -> tuple[list[TestResult], list[TestResult]]:
    # Split by gateway: each shard alone has every criterion half evaluated (not evaluated on the other).
    results = all_passing()
    return [r for r in results if r.gateway == GATEWAYS[0]], [r for r in results if r.gateway == GATEWAYS[1]]


def test_the_shards_merge_into_the_verdict_of_the_whole(tmp_path: Path) -> None:
    first, second = halves()
    one, two = shard_run(tmp_path, 1, first), shard_run(tmp_path, 2, second)
    alone = json.loads((one / "readiness.json").read_text())
    assert alone["verdict"] == "NO-GO"
    assert "shard 1 of 2" in alone["verdict_reason"]
    assert "Shard 1 of 2" in (one / "readiness.html").read_text()

    merged, _ = merge_shards([load_shard(two), load_shard(one)], CATALOGUE, run_id="merged")
    whole = build_readiness(CATALOGUE, all_passing(), run_info(selection=SCOPED, in_scope=IDS))
    assert merged.verdict is whole.verdict
    assert whole.verdict.value == "GO"
    assert [(c.id, c.status, [(g.gateway, g.status) for g in c.gateways]) for c in merged.criteria] == [
        (c.id, c.status, [(g.gateway, g.status) for g in c.gateways]) for c in whole.criteria
    ]

    # The command writes it (judged by the installed catalogue, which knows PAY-3DS of these ids).
    outcome = runner.invoke(app, ["merge", str(one), str(two), "-o", str(tmp_path / "merged")])
    assert outcome.exit_code == 0, outcome.output
    document = json.loads((tmp_path / "merged" / "readiness.json").read_text())
    assert document["run"]["merged_from"] == [one.name, two.name]
    assert len(json.loads((tmp_path / "merged" / "results.json").read_text())) == len(all_passing())


def test_a_missing_shard_leaves_its_criteria_not_evaluated_and_exits_2(tmp_path: Path) -> None:
    # Shard 1 ran the tests of the first two criteria; shard 2, with the other three, never reported.
    first = [r for r in all_passing() if r.criteria[0] in IDS[:2]]
    one = shard_run(tmp_path, 1, first)
    outcome = runner.invoke(app, ["merge", str(one), "-o", str(tmp_path / "merged")])
    assert outcome.exit_code == 2, outcome.output
    assert "shard 2 of 2 is missing" in outcome.output
    assert json.loads((tmp_path / "merged" / "readiness.json").read_text())["verdict"] == "NO-GO"
    merged, _ = merge_shards([load_shard(one)], CATALOGUE, run_id="merged")
    statuses = {c.id: c.status.value for c in merged.criteria}
    assert statuses == {i: "pass" if i in IDS[:2] else "not_evaluated" for i in IDS}  # the whole scope


def test_shards_of_different_runs_are_refused_with_one_line(tmp_path: Path) -> None:
    first, second = halves()
    one = shard_run(tmp_path, 1, first)
    other = shard_run(tmp_path, 2, second, seed=99)
    outcome = runner.invoke(app, ["merge", str(one), str(other), "-o", str(tmp_path / "merged")])
    assert outcome.exit_code == 2
    assert outcome.output.count("\n") == 1
    assert "is not a shard of the same run" in outcome.output
    assert "seed differs (99 vs 1234)" in outcome.output
    assert not (tmp_path / "merged").exists()


def test_shards_of_two_paycert_versions_are_refused(tmp_path: Path) -> None:
    # A CI matrix whose jobs installed different paycerts: the same test may be judged by different rules.
    first, second = halves()
    one = shard_run(tmp_path, 1, first)
    other = shard_run(tmp_path, 2, second, paycert_version="0.2.0")
    outcome = runner.invoke(app, ["merge", str(one), str(other), "-o", str(tmp_path / "merged")])
    assert outcome.exit_code == 2
    assert "its paycert version differs (0.2.0 vs 0.1.0)" in outcome.output
    assert not (tmp_path / "merged").exists()


def test_a_whole_run_or_a_missing_folder_is_not_a_shard(tmp_path: Path) -> None:
    first, _ = halves()
    one = shard_run(tmp_path, 1, first)
    write_report(
        build_readiness(CATALOGUE, first, run_info("20261203T000000Z-0003")),
        tmp_path,
        "20261203T000000Z-0003",
    )
    for bad, says in (
        (tmp_path / "20261203T000000Z-0003", "not a shard"),
        (tmp_path / "nope", "no such run folder"),
    ):
        outcome = runner.invoke(app, ["merge", str(one), str(bad), "-o", str(tmp_path / "merged")])
        assert outcome.exit_code == 2, outcome.output
        assert says in outcome.output, outcome.output


def claimed_halves() -> tuple[list[TestResult], list[TestResult], tuple[str, ...]]:
    first, second = halves()
    return first, second, tuple(sorted({r.nodeid for r in first + second}))


def test_workers_that_claimed_their_tests_merge_when_together_they_ran_each_test_once(tmp_path: Path) -> None:
    first, second, collected = claimed_halves()
    one = shard_run(tmp_path, 1, first, claimed=tuple(r.nodeid for r in first), collected=collected)
    two = shard_run(tmp_path, 2, second, claimed=tuple(r.nodeid for r in second), collected=collected)

    merged, _ = merge_shards([load_shard(one), load_shard(two)], CATALOGUE, run_id="merged")

    assert merged.verdict.value == "GO"
    assert merged.run.harness_errors == ()
    saved = json.loads((one / "readiness.json").read_text())["run"]["shard"]["claimed"]
    assert saved == [r.nodeid for r in first]


def test_a_collection_whose_digest_looks_like_a_card_number_still_merges_complete(tmp_path: Path) -> None:
    # The merge computes the collection's digest again and compares it with the one the report stored. About
    # one 16-hex digest in a thousand holds a Luhn-valid run, which the report's redaction masked: every
    # `-n` run of that collection was then "incomplete". Find such a collection of test names.
    def names(salt: int) -> list[str]:
        return [f"suites/test_{i.lower()}.py::test_it[{g}-{salt}]" for i in IDS for g in GATEWAYS]

    def plain(salt: int) -> str:
        return hashlib.sha256("\n".join(sorted(names(salt))).encode()).hexdigest()[:16]

    salt = next(k for k in itertools.count() if redact_text(plain(k)) != plain(k))
    results = [
        result(i, g, nodeid=n)
        for (i, g), n in zip(((i, g) for i in IDS for g in GATEWAYS), names(salt), strict=True)
    ]
    first, second = (
        [r for r in results if r.gateway == GATEWAYS[0]],
        [r for r in results if r.gateway != GATEWAYS[0]],
    )
    collected = tuple(sorted(names(salt)))
    one = shard_run(tmp_path, 1, first, claimed=tuple(r.nodeid for r in first), collected=collected)
    two = shard_run(tmp_path, 2, second, claimed=tuple(r.nodeid for r in second), collected=collected)

    merged, _ = merge_shards([load_shard(one), load_shard(two)], CATALOGUE, run_id="merged")

    assert merged.run.harness_errors == ()
    assert merged.verdict.value == "GO"


def test_a_test_two_workers_claimed_is_refused(tmp_path: Path) -> None:
    first, second, collected = claimed_halves()
    twice = first[0].nodeid
    one = shard_run(tmp_path, 1, first, claimed=tuple(r.nodeid for r in first), collected=collected)
    two = shard_run(tmp_path, 2, second, claimed=(twice, *(r.nodeid for r in second)), collected=collected)

    outcome = runner.invoke(app, ["merge", str(one), str(two), "-o", str(tmp_path / "merged")])

    assert outcome.exit_code == 2
    assert f"{twice} was claimed by shard 1 and by shard 2" in outcome.output
    assert not (tmp_path / "merged").exists()


def test_tests_no_worker_claimed_leave_their_criteria_not_evaluated(tmp_path: Path) -> None:
    first, second, collected = claimed_halves()
    left = [r for r in second if r.criteria[0] != IDS[0]]  # shard 2 never claimed the first criterion's test
    one = shard_run(tmp_path, 1, first, claimed=tuple(r.nodeid for r in first), collected=collected)
    two = shard_run(tmp_path, 2, left, claimed=tuple(r.nodeid for r in left), collected=collected)

    merged, _ = merge_shards([load_shard(one), load_shard(two)], CATALOGUE, run_id="merged")

    unclaimed = len(collected) - len(first) - len(left)
    assert unclaimed > 0
    assert merged.run.harness_errors == (
        f"{unclaimed} of the {len(collected)} collected tests were claimed by no shard: they did not run",
    )
    assert merged.verdict.value == "NO-GO"


def test_a_claimed_and_a_fixed_split_shard_are_not_one_run(tmp_path: Path) -> None:
    first, second, collected = claimed_halves()
    one = shard_run(tmp_path, 1, first, claimed=tuple(r.nodeid for r in first), collected=collected)
    two = shard_run(tmp_path, 2, second, collected=collected)

    outcome = runner.invoke(app, ["merge", str(one), str(two), "-o", str(tmp_path / "merged")])

    assert outcome.exit_code == 2
    assert "its kind of split differs (fixed in advance vs claimed as workers freed up)" in outcome.output


def test_a_card_number_in_a_shard_s_results_is_masked_in_the_merged_results(tmp_path: Path) -> None:
    first, second = halves()
    one, two = shard_run(tmp_path, 1, first), shard_run(tmp_path, 2, second)
    pan = "4111111111111111"
    planted = json.loads((one / "results.json").read_text())
    planted[0]["evidence"] = [{"kind": "note", "label": "typed", "text": f"card {pan} was typed"}]
    (one / "results.json").write_text(json.dumps(planted))  # as a hand-edited or foreign file would hold it

    outcome = runner.invoke(app, ["merge", str(one), str(two), "-o", str(tmp_path / "merged")])

    assert outcome.exit_code == 0, outcome.output
    merged = (tmp_path / "merged" / "results.json").read_text()
    assert "card 4111" in merged
    assert pan not in merged
