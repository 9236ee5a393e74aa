"""The shard split of `paycert run --shard K/N`: deterministic, balanced by durations, each test once, and
the tests that share costly state (a module's tests against one gateway, the phone Chromium) on one shard."""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import paycert.plugin
from paycert.core.errors import PaycertError
from paycert.plugin.durations import (
    REFERENCE,
    TEST_ID,
    durations_for,
    latest_whole_run,
    load_durations,
    load_reference,
    reference_durations,
)
from paycert.plugin.shard import (
    SESSION_CHROMIUM_FIXTURES,
    SESSION_CHROMIUM_UNIT,
    parse_shard,
    per_test,
    split,
    unit_of,
)

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]

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
    # A later run of one suite knows too few tests to balance a whole split; one of some gateways does.
    partial = run("20261203T000000Z-cccc", None)
    document = {"run": {"run_id": partial.name, "selection": {"suites": ["webhooks"], "gateways": []}}}
    (partial / "readiness.json").write_text(json.dumps(document))
    assert latest_whole_run(tmp_path) == whole
    some_gateways = run("20261204T000000Z-dddd", None)
    document = {"run": {"run_id": some_gateways.name, "selection": {"suites": [], "gateways": ["gustaffo"]}}}
    (some_gateways / "readiness.json").write_text(json.dumps(document))
    assert latest_whole_run(tmp_path) == some_gateways
    assert load_durations(whole) == {"t::a": 2.0}
    with pytest.raises(PaycertError, match=r"no readable results\.json"):
        load_durations(tmp_path / "nothing")

    # The source of the durations, in order: the folder given, the newest whole run, paycert's reference.
    given = run("20261130T000000Z-cccc", None)
    assert durations_for(given, tmp_path).source == "20261130T000000Z-cccc"
    assert durations_for(None, tmp_path).source == "20261204T000000Z-dddd"
    fresh = durations_for(None, tmp_path / "no-reports-yet")
    assert fresh.source == REFERENCE
    assert fresh.seconds == load_reference()
    with pytest.raises(PaycertError, match=r"no readable results\.json"):
        durations_for(tmp_path / "nothing", tmp_path)


# -- what results.json calls a test --------------------------------------------------------------------------

CONTRACT = "suites/contract/test_generated_contract.py::test_generated_contract[txservices]"


def test_a_test_recorded_once_per_criterion_counts_for_its_test() -> None:
    # The generated contract test is in results.json once per criterion, each with the time since it started.
    recorded = {
        f"{CONTRACT}::CON-STATUS": 5.3,
        f"{CONTRACT}::CON-SCHEMA": 5.2,
        "m.py::t[a]": 1.0,
        "m.py::u[a]": 1.0,
    }
    collected = [CONTRACT, "m.py::t[a]", "m.py::u[a]", "m.py::v[a]"]
    assert per_test(recorded, collected) == {CONTRACT: 5.3, "m.py::t[a]": 1.0, "m.py::u[a]": 1.0}
    # So it is the heavy test it is, alone on its shard; were it unknown it would count as 1 s, the average.
    assert split(collected, 2, recorded) == [[CONTRACT], ["m.py::t[a]", "m.py::u[a]", "m.py::v[a]"]]


def test_what_matches_no_collected_test_is_left_out() -> None:
    recorded = {"paycert::responses-of-the-run[gustaffo]": 3.0, "m.py::gone[a]": 9.0, "m.py::t[a]": 1.0}
    assert per_test(recorded, ["m.py::t[a]", "m.py::u[a]"]) == {"m.py::t[a]": 1.0}


# -- units ---------------------------------------------------------------------------------------------------


def module_and_gateway(nodeid: str) -> str:
    """What `unit_of` says for the TESTS above (their only parameter is the gateway)."""
    return f"{nodeid.split('::', 1)[0]}[{nodeid[-2]}]"


UNITS = {n: module_and_gateway(n) for n in TESTS}


@pytest.mark.parametrize("total", [2, 3, 5])
def test_the_tests_of_a_unit_run_on_one_shard(total: int) -> None:
    durations = {n: float(i % 5) + 0.5 for i, n in enumerate(sorted(TESTS))}
    shards = split(TESTS, total, durations, UNITS)
    flat = [n for shard in shards for n in shard]
    assert sorted(flat) == sorted(TESTS)
    assert len(flat) == len(set(flat))
    for unit in set(UNITS.values()):
        holding = [k for k, shard in enumerate(shards) if any(UNITS[n] == unit for n in shard)]
        assert len(holding) == 1, f"{unit} is on shards {holding}"
    # Least-duration over units: never further apart than the heaviest unit.
    heaviest = max(sum(durations[n] for n in TESTS if UNITS[n] == u) for u in set(UNITS.values()))
    assert max(loads(shards, durations)) - min(loads(shards, durations)) <= heaviest
    assert split(TESTS[::-1], total, durations, UNITS) == shards  # whatever the collection order


def test_units_are_balanced_by_the_sum_of_their_tests() -> None:
    # a: 4 tests of 1.5 s; b: one of 4 s; c: one of 2 s. Longest unit first: a | b, then c with b: 6 s | 6 s.
    units = {"a1": "a", "a2": "a", "a3": "a", "a4": "a", "b1": "b", "c1": "c"}
    durations = {"a1": 1.5, "a2": 1.5, "a3": 1.5, "a4": 1.5, "b1": 4.0, "c1": 2.0}
    assert split(list(units), 2, durations, units) == [["a1", "a2", "a3", "a4"], ["b1", "c1"]]
    # Per single test, a's tests would go to both shards and its set-up be paid twice.
    assert split(list(units), 2, durations) == [["a3", "b1"], ["a1", "a2", "a4", "c1"]]


def test_a_unit_heavier_than_a_shard_s_share_is_cut_into_consecutive_pieces() -> None:
    # 7 s in all, 3.5 s a shard: the 6 s unit would leave its shard the slowest whatever else went where.
    units = {f"k{i}": "kpi" for i in range(6)} | {"x": "x"}
    durations = dict.fromkeys(units, 1.0)
    shards = split(list(units), 2, durations, units)
    assert shards == [["k0", "k1", "k2", "x"], ["k3", "k4", "k5"]]
    # Three shards: 2.33 s each, so three pieces of the unit.
    assert split(list(units), 3, durations, units) == [["k0", "k1", "x"], ["k2", "k3"], ["k4", "k5"]]


def test_without_durations_units_are_balanced_by_their_number_of_tests() -> None:
    units = {"a1": "a", "a2": "a", "a3": "a", "b1": "b", "b2": "b", "c1": "c"}
    assert split(list(units), 2, {}, units) == [["a1", "a2", "a3"], ["b1", "b2", "c1"]]


def test_a_unit_is_a_module_or_the_session_s_phone_chromium(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\n"
        + "".join(f"@pytest.fixture\ndef {name}():\n    return None\n" for name in SESSION_CHROMIUM_FIXTURES)
    )
    pytester.makepyfile(
        test_one="""
        import pytest

        @pytest.mark.parametrize("gateway_id", ["a", "b"])
        def test_x(gateway_id): pass

        @pytest.mark.parametrize("case", ["1", "2"])
        @pytest.mark.parametrize("gateway_id", ["a"])
        def test_y(gateway_id, case): pass

        def test_z(): pass

        @pytest.mark.parametrize("gateway_id", ["b"])
        def test_on_a_phone(gateway_id, experience): pass
        """,
        test_two="def test_the_merchants_pages(merchant_pages): pass\n",
    )
    items, _ = pytester.inline_genitems("-p", "no:paycert")  # the plugin would parametrize gateway_id itself
    assert {item.nodeid: unit_of(item) for item in items} == {
        "test_one.py::test_x[a]": "test_one.py",
        "test_one.py::test_x[b]": "test_one.py",
        "test_one.py::test_y[a-1]": "test_one.py",
        "test_one.py::test_y[a-2]": "test_one.py",
        "test_one.py::test_z": "test_one.py",
        "test_one.py::test_on_a_phone[b]": SESSION_CHROMIUM_UNIT,
        "test_two.py::test_the_merchants_pages": SESSION_CHROMIUM_UNIT,
    }


def test_every_fixture_that_opens_the_phone_chromium_keeps_its_tests_together() -> None:
    # The fixtures that call `phone_browser` (paycert/plugin/experience.py) share the session's one Chromium.
    opening = set()
    for module in Path(paycert.plugin.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(call, ast.Call) and getattr(call.func, "id", "") == "phone_browser"
                for call in ast.walk(node)
            ):
                opening.add(node.name)
    assert opening - {"phone_browser"} == SESSION_CHROMIUM_FIXTURES


# -- the reference durations ---------------------------------------------------------------------------------


def test_the_reference_durations_are_shipped_by_pytest_test_id() -> None:
    reference = load_reference()
    assert len(reference) > 200
    for nodeid, seconds in reference.items():
        match = TEST_ID.match(nodeid)
        assert match is not None, nodeid
        assert match.group("test") == nodeid  # no `::CRITERION` suffix
        assert seconds == round(seconds, 2) >= 0
    # The heaviest tests of the default run are known as the tests they are, not as the average.
    contract = [n for n in reference if n.startswith(CONTRACT.split("[", 1)[0])]
    assert len(contract) == 3
    assert min(reference[n] for n in contract) > 5 * sum(reference.values()) / len(reference)


def test_unreadable_reference_durations_stop_the_split_and_missing_ones_leave_it_to_round_robin(
    tmp_path: Path,
) -> None:
    assert load_reference(tmp_path / "none.json") == {}
    (tmp_path / "broken.json").write_text("[1, 2]")
    with pytest.raises(PaycertError, match="reference durations"):
        load_reference(tmp_path / "broken.json")


def whole_run(folder: Path, run: dict[str, object], results: list[dict[str, object]]) -> Path:
    folder.mkdir(parents=True)
    (folder / "readiness.json").write_text(json.dumps({"run": run}))
    (folder / "results.json").write_text(json.dumps(results))
    return folder


DEFAULT_RUN = {
    "run_id": "20261201T000000Z-aaaa",
    "target": "embedded reference sandbox",
    "target_file": "",
    "selection": {"criteria": [], "gateways": [], "keyword": "", "suites": []},
    "faults": [],
    "harness_errors": [],
}
RESULTS = [
    {"nodeid": f"{CONTRACT}::CON-STATUS", "duration_s": 5.304},
    {"nodeid": f"{CONTRACT}::CON-SCHEMA", "duration_s": 5.291},
    {"nodeid": "suites/x/test_x.py::test_a[gustaffo-answered 500]", "duration_s": 0.1049},
    {"nodeid": "paycert::responses-of-the-run[gustaffo]", "duration_s": 0.0},
]


def test_a_whole_run_becomes_reference_durations_by_test_id(tmp_path: Path) -> None:
    run = whole_run(tmp_path / "run", DEFAULT_RUN, RESULTS)
    assert reference_durations(run) == {
        CONTRACT: 5.3,
        "suites/x/test_x.py::test_a[gustaffo-answered 500]": 0.1,
    }


def regenerate(run: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/reference_durations.py", str(run), "-o", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_regeneration_script_takes_only_a_whole_default_run(tmp_path: Path) -> None:
    done = regenerate(whole_run(tmp_path / "whole", DEFAULT_RUN, RESULTS), tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text())[CONTRACT] == 5.3

    refused = {
        "shard": {"shard": {"index": 1, "total": 2}},
        "selection": {"selection": {"suites": ["webhooks"]}},
        "target": {"target": "my-target", "target_file": "my-target.yaml"},
        "faults": {"faults": ["bad-signature"]},
    }
    for name, change in refused.items():
        done = regenerate(
            whole_run(tmp_path / name, DEFAULT_RUN | change, RESULTS), tmp_path / f"{name}.json"
        )
        assert done.returncode == 2, name
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert not (tmp_path / f"{name}.json").exists()
