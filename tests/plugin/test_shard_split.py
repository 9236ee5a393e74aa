"""The shard split of `paycert run --shard K/N`: deterministic, balanced by durations, each test once."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from paycert.core.errors import PaycertError
from paycert.plugin.shard import latest_whole_run, load_durations, parse_shard, split

TESTS = [
    f"suites/{s}/test_{s}.py::test_{i}[{g}]"
    for s in ("scenarios", "webhooks")
    for i in range(7)
    for g in "abc"
]


def loads(shards: list[list[str]], durations: dict[str, float]) -> list[float]:
    return [sum(durations[n] for n in shard) for shard in shards]


@pytest.mark.parametrize("total", [1, 2, 3, 5, 50])
def test_every_test_is_in_exactly_one_shard(total: int) -> None:
    durations = {n: float(i % 7 + 1) for i, n in enumerate(TESTS[::2])}  # half of them known
    for known in ({}, durations):
        shards = split(TESTS, total, known)
        assert len(shards) == total
        flat = [n for shard in shards for n in shard]
        assert sorted(flat) == sorted(TESTS)
        assert len(flat) == len(set(flat))


def test_the_split_is_the_same_whatever_order_the_tests_were_collected_in() -> None:
    durations = {n: float(len(n) % 5) + 0.1 for n in TESTS}
    shuffled = TESTS[:]
    random.Random(7).shuffle(shuffled)
    assert split(shuffled, 3, durations) == split(TESTS, 3, durations)
    assert split(shuffled, 3, {}) == split(TESTS, 3, {})


def test_without_durations_it_is_a_round_robin_over_the_sorted_ids() -> None:
    shards = split(TESTS, 4, {})
    ordered = sorted(TESTS)
    assert shards == [ordered[k::4] for k in range(4)]
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_durations_balance_the_shards_where_round_robin_does_not() -> None:
    # Every fourth test (by id) is slow: a round-robin over 2 shards puts all of them on one.
    ordered = sorted(TESTS)
    durations = {n: (10.0 if i % 4 == 0 else 1.0) for i, n in enumerate(ordered)}
    naive = loads(split(TESTS, 2, {}), durations)
    balanced = loads(split(TESTS, 2, durations), durations)
    assert max(naive) - min(naive) > 50  # 110 s against 32 s
    # Least-duration: never further apart than the longest single test.
    assert max(balanced) - min(balanced) <= 10.0
    assert sum(balanced) == sum(naive)


def test_a_test_the_durations_do_not_know_counts_as_the_average() -> None:
    # a 9 s, b 1 s, c and d unknown: 5 s each. Longest first to the lighter shard: a | c, d | then b.
    # (Counted as 0 s, c and d would join b and leave a alone.)
    assert split(["a", "b", "c", "d"], 2, {"a": 9.0, "b": 1.0}) == [["a", "b"], ["c", "d"]]


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", ""])
def test_a_bad_shard_is_refused_with_one_line(text: str) -> None:
    with pytest.raises(PaycertError, match="--shard"):
        parse_shard(text)


def test_durations_come_from_results_json_and_a_shard_is_never_the_default_source(tmp_path: Path) -> None:
    def run(name: str, shard: dict[str, int] | None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        run_doc = {"run_id": name} | ({"shard": shard} if shard else {})
        (folder / "readiness.json").write_text(json.dumps({"run": run_doc}))
        results = [{"nodeid": "t::a", "duration_s": 1.5}, {"nodeid": "t::a", "duration_s": 2.0}]
        (folder / "results.json").write_text(json.dumps(results))
        return folder

    whole = run("20261201T000000Z-aaaa", None)
    run("20261202T000000Z-bbbb", {"index": 1, "total": 2})
    assert latest_whole_run(tmp_path) == whole
    assert load_durations(whole) == {"t::a": 2.0}
    with pytest.raises(PaycertError, match=r"no readable results\.json"):
        load_durations(tmp_path / "nothing")
