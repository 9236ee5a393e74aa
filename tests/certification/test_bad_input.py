"""The bad-input corpus: whatever a peer or a file does wrong, `paycert run` ends in time, exit 2 (or NO-GO),
with one line on stderr that is the reason, no traceback, a readiness.json written, and never GO.

Each case runs the real command on a target file. The peers are real sockets on 127.0.0.1
(tests/badpeer/peer.py). Each request has a 2 s deadline, so the corpus stays quick; --max-duration is only
a safety net here (the machine is shared: start-up alone can take seconds), except in the case that is about
it; and each run is bounded by its subprocess timeout, not by a timed assertion.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.badpeer.peer import BadPeer
from tests.certification.runs import REPO, Run

pytestmark = pytest.mark.slow

GATEWAY_TIMEOUT = 2  # the target's timeout_seconds: the whole of each request
MAX_DURATION = 45  # --max-duration of each run; a case that needs it is broken (its reason says otherwise)
RUN_DEADLINE_CASE = 12  # --max-duration of the case about it: a token, then every call stalls
# Above what a run may take (start-up, MAX_DURATION, the grace of the hard stop, the report), and far below
# the 420 s of the other certification runs: a run that hangs fails here instead of stalling CI.
CASE_DEADLINE_SECONDS = 120

CREDENTIALS = {
    "PAYCERT_BADPEER_CLIENT_ID": "gustaffo-sandbox",
    "PAYCERT_BADPEER_CLIENT_SECRET": "not-a-secret",
}
# A short run: the criteria whose tests reach the token endpoint and a payment, not the whole catalogue.
FEW_TESTS = ("--suite", "scenarios", "-c", "AUTH-CREDENTIALS", "-c", "PAY-SUCCESS")

BROKEN_YAML = "name: broken\ngateways:\n  gustaffo: {base_url: [http://127.0.0.1:1\n"
NOT_UTF8 = "name: caf\xe9\ngateways: {}\n".encode("latin-1")
MINIMAL_OPENAPI = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}}


def gustaffo_at(base_url: str) -> dict[str, object]:
    entry = {
        "base_url": base_url,
        "timeout_seconds": GATEWAY_TIMEOUT,
        "credentials": {
            "client_id": "PAYCERT_BADPEER_CLIENT_ID",
            "client_secret": "PAYCERT_BADPEER_CLIENT_SECRET",
        },
    }
    return {"name": "bad input", "gateways": {"gustaffo": entry}}


def spec_at(spec: str) -> dict[str, object]:
    entry = {"base_url": "http://127.0.0.1:1", "spec": spec, "timeout_seconds": GATEWAY_TIMEOUT}
    return {"name": "bad spec", "gateways": {"byo": entry}}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Case:
    """A target (made in `tmp`, pointing at `peer` if it needs one), the run's options, and the reason's words."""

    make: Callable[[BadPeer, Path], object]
    words: str
    args: tuple[str, ...] = FEW_TESTS


def peer_case(behaviour: str, words: str, *args: str) -> Case:
    return Case(lambda peer, tmp: gustaffo_at(f"{peer.url(behaviour)}/gustaffo"), words, args or FEW_TESTS)


def spec_url_case(behaviour: str, words: str) -> Case:
    return Case(lambda peer, tmp: spec_at(f"{peer.url(behaviour)}/openapi.yaml"), words)


def spec_file_case(content: object, words: str) -> Case:
    def make(peer: BadPeer, tmp: Path) -> object:
        write(tmp / "openapi.yaml", content)
        return spec_at("openapi.yaml")

    return Case(make, words)


def write(path: Path, content: object) -> Path:
    """Bytes and text as they are (broken files), anything else as YAML."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def with_own_profile(peer: BadPeer, tmp: Path) -> object:
    write(tmp / "profile.yaml", b"id: mine\ntitle: \xff\xfe\n")
    target = gustaffo_at("http://127.0.0.1:1/gustaffo")
    target["gateways"]["gustaffo"]["profile"] = "profile.yaml"  # type: ignore[index]
    return target


CASES: dict[str, Case] = {
    # peers that misbehave on the wire
    "garbage bytes": peer_case("garbage", "did not answer in HTTP"),
    "hangs": peer_case("hang", f"did not answer within {GATEWAY_TIMEOUT} s"),
    "drips bytes": peer_case("drip", f"did not answer within {GATEWAY_TIMEOUT} s"),
    "resets": peer_case("reset", "reset the connection"),
    "closed port": Case(
        lambda peer, tmp: gustaffo_at(f"http://127.0.0.1:{closed_port()}"), "connection refused"
    ),
    "unresolvable host": Case(
        lambda peer, tmp: gustaffo_at("http://paycert-nowhere.invalid"), "cannot resolve"
    ),
    # peers that answer, but not what a token endpoint should
    "answers 500": peer_case("500", "token endpoint answered HTTP 500"),
    "bad JSON": peer_case("bad-json", "JSON that does not parse"),
    "HTML": peer_case("html", "with text/html, not JSON"),
    "huge body": peer_case("huge", "body over 32 MiB; refused"),
    "redirect loop": peer_case("redirect-loop", "token endpoint answered HTTP 302, a redirect"),
    # spec URLs
    "spec URL drips": spec_url_case("drip", f"no whole answer within {GATEWAY_TIMEOUT} s"),
    "spec URL redirects in a loop": spec_url_case("redirect-loop", "redirects"),
    "spec URL answers 500": spec_url_case("500", "500 Internal Server Error"),
    "spec URL is HTML": spec_url_case("html", "not an OpenAPI document"),
    # target files
    "target not YAML": Case(lambda peer, tmp: BROKEN_YAML, "target.yaml:4:1: not valid YAML"),
    "target not UTF-8": Case(lambda peer, tmp: NOT_UTF8, "target.yaml:1:10: not UTF-8 (byte 0xe9)"),
    "target a list": Case(lambda peer, tmp: ["gateways"], "invalid at (top)"),
    "profile not UTF-8": Case(with_own_profile, "profile.yaml:2:8: not UTF-8"),
    # spec files
    "spec not YAML": spec_file_case("openapi: 3.0.3\npaths: {/a: [}\n", "openapi.yaml:2:"),
    "spec not UTF-8": spec_file_case(b"openapi: 3.0.3\ninfo: {title: \xc3\x28}\n", "not UTF-8"),
    "spec not OpenAPI": spec_file_case({"hello": "world"}, "not an OpenAPI 3 document"),
    "spec is Swagger 2": spec_file_case({"swagger": "2.0", "paths": {}}, "Swagger 2.0"),
    "spec paths a string": spec_file_case({**MINIMAL_OPENAPI, "paths": "/payments"}, "'paths' must map"),
    "spec paths a list": spec_file_case({**MINIMAL_OPENAPI, "paths": ["/payments"]}, "not be a list"),
    "spec path item a string": spec_file_case(
        {**MINIMAL_OPENAPI, "paths": {"/a": "get"}}, "paths//a must map"
    ),
}


@pytest.fixture(scope="module")
def peer() -> Iterator[BadPeer]:
    with BadPeer() as started:
        yield started


def run_paycert(*args: str, report_dir: Path) -> Run:
    """`python -m paycert ARGS`, as tests/certification/runs.py does, but held to this corpus's deadline."""
    env = {k: v for k, v in os.environ.items() if k != "PAYCERT_TARGET"} | CREDENTIALS
    done = subprocess.run(
        [sys.executable, "-m", "paycert", *args, "--report-dir", str(report_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CASE_DEADLINE_SECONDS,
        env=env,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, report_dir)


def assert_reported_bad_input(run: Run, words: str) -> None:
    output = run.stdout + run.stderr
    assert "Traceback" not in output, output[-3000:]
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"stderr is not one line: {run.stderr[-2000:]}"
    assert words in lines[0], lines[0]
    assert run.code == 2 or (run.code == 1 and run.readiness["verdict"] == "NO-GO"), (run.code, lines[0])
    assert run.readiness["verdict"] != "GO"
    assert run.with_status("pass") == set()
    assert_progress_agrees_with_the_table(run)


def assert_progress_agrees_with_the_table(run: Run) -> None:
    """No progress line says pass where nothing passed, nor FAIL where nothing failed."""
    marks = {line.split()[0] for line in run.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert "pass" not in marks, run.stdout[-2000:]
    if not run.with_status("fail"):
        assert "FAIL" not in marks, run.stdout[-2000:]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_ends_in_time_with_one_line_a_report_and_no_go(
    case: Case, peer: BadPeer, tmp_path: Path
) -> None:
    target = write(tmp_path / "target.yaml", case.make(peer, tmp_path))

    run = run_paycert(
        "run",
        "--target",
        str(target),
        "--max-duration",
        str(MAX_DURATION),
        *case.args,
        report_dir=tmp_path / "r",
    )

    assert_reported_bad_input(run, case.words)


def test_an_unknown_sandbox_fault_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = run_paycert("run", "--sandbox-fault", "bad-signatur", report_dir=tmp_path / "r")

    assert_reported_bad_input(run, "unknown fault(s) bad-signatur")
    assert run.code == 2


def test_a_run_past_its_max_duration_reports_what_it_measured_and_the_rest_not_evaluated(
    peer: BadPeer, tmp_path: Path
) -> None:
    # A token, then every call stalls for its whole 2 s: the scenarios need far more than the run is given.
    target = write(tmp_path / "target.yaml", gustaffo_at(f"{peer.url('stalls')}/gustaffo"))

    run = run_paycert(
        *("run", "--target", str(target), "--suite", "scenarios", "--max-duration", str(RUN_DEADLINE_CASE)),
        report_dir=tmp_path / "r",
    )

    assert_reported_bad_input(run, f"the run's --max-duration of {RUN_DEADLINE_CASE} s ran out")
    assert run.code == 2
    assert run.with_status("not_evaluated") == set(run.statuses())
    results = json.loads((run.run_dir / "results.json").read_text())
    reasons = {r["reason"] for r in results}
    assert any("ran out before this test started" in reason for reason in reasons), reasons
    # What ran before the deadline is in the report with its evidence (the requests it sent).
    measured = [r for r in results if "started" not in r["reason"]]
    assert all(r["evidence"] for r in measured), measured


STUCK_TESTS = """
import time

import pytest


@pytest.mark.criterion("PAY-SUCCESS")
def test_waits_for_a_webhook_that_never_comes(gateway_id):
    time.sleep(600)  # no request in progress: only the hard stop can end this


@pytest.mark.criterion("PAY-DECLINED")
def test_never_started(gateway_id):
    pass
"""


def test_a_test_stuck_outside_any_request_is_interrupted_and_the_report_still_written(tmp_path: Path) -> None:
    (tmp_path / "test_stuck.py").write_text(STUCK_TESTS, encoding="utf-8")
    target = write(tmp_path / "target.yaml", gustaffo_at(f"http://127.0.0.1:{closed_port()}"))
    # pytest-timeout's signal method would take SIGALRM, which the hard stop uses.
    plugin_args = [
        "-p",
        "no:timeout",
        "--paycert-target",
        str(target),
        "--paycert-report-dir",
        str(tmp_path / "r"),
    ]
    plugin_args += ["--paycert-run-id", "stuck", "--paycert-max-duration", "3"]

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_stuck.py", "-q", "-p", "no:cacheprovider", *plugin_args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CASE_DEADLINE_SECONDS,  # far below the test's own 600 s: it was interrupted
        # PAYCERT_HOME: the session runs outside the checkout, and an installed (not editable) paycert finds
        # its specs only through it.
        env={k: v for k, v in os.environ.items() if k != "PAYCERT_TARGET"}
        | CREDENTIALS
        | {"PAYCERT_HOME": str(REPO)},
        check=False,
    )

    assert done.returncode == pytest.ExitCode.INTERRUPTED, done.stdout[-2000:] + done.stderr[-2000:]
    readiness = json.loads((tmp_path / "r" / "stuck" / "readiness.json").read_text())
    assert readiness["run"]["harness_errors"][0].startswith("the run's --max-duration of 3 s ran out")
    assert readiness["verdict"] == "NO-GO"
    statuses = {c["id"]: c["status"] for c in readiness["criteria"]}
    assert statuses["PAY-SUCCESS"] == statuses["PAY-DECLINED"] == "not_evaluated"
