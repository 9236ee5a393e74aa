"""Targets: a separately started sandbox certifies the same; bad input exits 2 with one line, never GO."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from paycert.cli.sandbox_cmd import env_name
from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.sandbox.gateways import GATEWAYS
from tests.certification.runs import REPO, Run, paycert

pytestmark = pytest.mark.slow


def sandbox_target(base_url: str, ca_file: Path | None = None) -> tuple[dict[str, object], dict[str, str]]:
    """A target file's content for a sandbox at `base_url`, and the environment holding its credentials."""
    gateways: dict[str, object] = {}
    env: dict[str, str] = {}
    for module in GATEWAYS:
        gid = module.PREFIX.strip("/")
        names = {}
        for credential, value in module.CREDENTIALS.items():
            names[credential] = env_name(gid, credential)
            env[env_name(gid, credential)] = value
        entry: dict[str, object] = {
            "base_url": f"{base_url}{module.PREFIX}",
            "credentials": names,
            "control_url": f"{base_url}/_sandbox",
        }
        if ca_file:
            entry["ca_file"] = str(ca_file)
        other = getattr(module, "OTHER_CREDENTIALS", {})
        if other:  # SEC-ACCESS: the sandbox's second client, whose token must not reach the first's data
            entry["other_client"] = {name: env_name(gid, f"other_{name}") for name in other}
            env.update({env_name(gid, f"other_{name}"): value for name, value in other.items()})
        gateways[gid] = entry
    # The ATT-* criteria: the example attestations speak for the reference sandbox.
    attestations = str(REPO / "fixtures" / "attestations.example.yaml")
    return {"name": "a sandbox started separately", "gateways": gateways, "attestations": attestations}, env


def write(path: Path, content: object) -> Path:
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def assert_cannot_run(run: Run, words: str) -> None:
    assert run.code == 2, f"exit {run.code}: {run.stderr[-1500:]}"
    assert "Traceback" not in run.stderr
    assert words in run.last_stderr_line(), run.last_stderr_line()
    assert run.readiness["verdict"] == "NO-GO"
    # Nothing about the gateways passes; the attested criteria speak of the operator, not of its reachability.
    assert {c for c in run.with_status("pass") if not c.startswith("ATT-")} == set()


def test_a_target_file_pointing_at_a_separately_started_sandbox_is_certified_go(tmp_path: Path) -> None:
    # Over HTTPS: a target on plain http:// fails SEC-TLS and SEC-HTTPS, so it cannot be GO.
    with SandboxServer(SandboxConfig(tmp_path / "sandbox"), tls=True) as server:
        content, env = sandbox_target(server.base_url, server.ca_file)
        gateways = content["gateways"]
        assert isinstance(gateways, dict)
        for gid, entry in gateways.items():
            entry["plain_http_url"] = f"{server.plain_http_url}/{gid}"
        target = write(tmp_path / "target.yaml", content)

        run = paycert("run", "--target", str(target), report_dir=tmp_path / "reports", env=env)

    assert run.code == 0, run.stderr[-2000:]
    assert run.readiness["verdict"] == "GO"
    assert run.readiness["run"]["target"] == "a sandbox started separately"


def test_the_sandbox_over_real_tls_is_certified_go(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(tmp_path / "sandbox"), tls=True) as server:
        content, env = sandbox_target(server.base_url, server.ca_file)
        target = write(tmp_path / "target.yaml", content)
        run = paycert(
            "run", "--target", str(target), "--suite", "scenarios", report_dir=tmp_path / "r", env=env
        )

    assert server.base_url.startswith("https://")
    assert run.code == 0, run.stderr[-2000:]


def test_an_untrusted_certificate_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(tmp_path / "sandbox"), tls=True) as server:
        content, env = sandbox_target(server.base_url)  # no ca_file: the sandbox's CA is not trusted
        target = write(tmp_path / "target.yaml", content)
        run = paycert(
            "run", "--target", str(target), "--suite", "scenarios", report_dir=tmp_path / "r", env=env
        )

    assert_cannot_run(run, "not trusted")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_closed_port_exits_2_with_a_one_line_reason_and_a_not_evaluated_report(tmp_path: Path) -> None:
    content, env = sandbox_target(f"http://127.0.0.1:{closed_port()}")
    target = write(tmp_path / "target.yaml", content)

    run = paycert("run", "--target", str(target), report_dir=tmp_path / "reports", env=env)

    assert_cannot_run(run, "connection refused")
    # Every gateway criterion is not evaluated; the attested ones were judged from the attestations file.
    assert run.with_status("not_evaluated") == {c for c in run.statuses() if not c.startswith("ATT-")}
    html = (run.run_dir / "readiness.html").read_text()
    assert "not evaluated" in html.lower()


class GarbageHandler(BaseHTTPRequestHandler):
    """A 'gateway' that answers everything with 200 and a body that is not what any spec says."""

    def _garbage(self) -> None:
        body = b"<html>\x00\xff not json {{{"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _garbage

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_garbage_answers_are_never_a_go(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GarbageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        content, env = sandbox_target(f"http://127.0.0.1:{server.server_address[1]}")
        target = write(tmp_path / "target.yaml", content)
        run = paycert(
            "run", "--target", str(target), "--suite", "scenarios", report_dir=tmp_path / "r", env=env
        )
    finally:
        server.shutdown()

    assert run.code == 2, run.stderr[-1500:]
    assert "Traceback" not in run.stderr
    assert run.readiness["verdict"] == "NO-GO"
    assert run.with_status("pass") <= {"PAY-AMOUNT"} or run.with_status("pass") == set()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        ("gateways: [unclosed", "not valid YAML"),
        ({"gateways": {"gustaffo": {"base_url": "ftp://nope"}}}, "invalid at gateways/gustaffo/base_url"),
        ({"gateways": {"acme": {"base_url": "http://127.0.0.1:1", "profile": "acme"}}}, "no profile 'acme'"),
        (
            {
                "gateways": {
                    "gustaffo": {
                        "base_url": "http://127.0.0.1:1",
                        "credentials": {
                            "client_id": "PAYCERT_TEST_UNSET_A",
                            "client_secret": "PAYCERT_TEST_UNSET_B",
                        },
                    }
                }
            },
            "PAYCERT_TEST_UNSET_A",
        ),
    ],
    ids=["missing file", "broken yaml", "schema", "unknown profile", "unset credential"],
)
def test_a_bad_target_file_exits_2_with_one_line(content: object, words: str, tmp_path: Path) -> None:
    target = tmp_path / "target.yaml"
    if isinstance(content, str):
        target.write_text(content)
    elif content is not None:
        write(target, content)

    run = paycert("run", "--target", str(target), report_dir=tmp_path / "reports")

    assert_cannot_run(run, words)


def test_a_live_target_moves_no_money_unless_allowed_and_undoes_what_it_created(
    started_sandbox: SandboxServer, tmp_path: Path
) -> None:
    content, env = sandbox_target(started_sandbox.base_url)
    gateways = content["gateways"]
    assert isinstance(gateways, dict)
    live = {
        "name": "live gustaffo",
        "gateways": {"gustaffo": {**gateways["gustaffo"], "environment": "live"}},
    }
    target = write(tmp_path / "live.yaml", live)

    guarded = paycert("run", "--target", str(target), "-c", "PAY-SUCCESS", report_dir=tmp_path / "a", env=env)
    allowed = paycert(
        "run",
        "--target",
        str(target),
        "-c",
        "PAY-SUCCESS",
        "--allow-live-writes",
        report_dir=tmp_path / "b",
        env=env,
    )

    assert guarded.code == 1
    assert guarded.with_status("not_evaluated") == {"PAY-SUCCESS"}
    cell = guarded.readiness["criteria"][0]["gateways"]["gustaffo"]
    assert "--allow-live-writes" in cell["reason"]
    assert allowed.code == 0, allowed.stderr[-1500:]
    # Whatever the allowed run paid, it refunded: the sandbox's outbox holds a refund for every completion.
    outbox = httpx.get(f"{started_sandbox.base_url}/_sandbox/outbox", params={"gateway": "gustaffo"}).json()
    events = [d["event_type"] for d in outbox]
    assert events.count("payment.completed") >= 1
    assert events.count("payment.refunded") == events.count("payment.completed")


def test_the_readme_example_target_certifies_a_sandbox_started_by_hand(tmp_path: Path) -> None:
    """README: `paycert sandbox &`, `eval "$(paycert env)"`, `paycert run --target fixtures/targets/sandbox.yaml`.

    Run from the checkout root with the relative path, as a newcomer would: the checkout's own pytest
    configuration (its addopts, its testpaths) must not reach the session paycert starts.
    """
    served = subprocess.Popen(
        [sys.executable, "-m", "paycert", "sandbox", "--data-dir", str(tmp_path / "data")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert served.stdout is not None
        first = served.stdout.readline()
        assert first.startswith("paycert sandbox on http://127.0.0.1:8000"), first
        exports = subprocess.run(
            [sys.executable, "-m", "paycert", "env"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
        env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in exports.splitlines()
            if line.startswith("export ")
        )
        assert "PAYCERT_GUSTAFFO_CLIENT_SECRET" in env

        run = paycert(
            "run",
            "--target",
            "fixtures/targets/sandbox.yaml",
            "-s",
            "scenarios",
            report_dir=tmp_path / "reports",
            env=env,
        )

        assert run.code == 0, run.stderr[-2000:]
        assert run.readiness["verdict"] == "GO"
        assert run.readiness["run"]["target"] == "reference sandbox on 127.0.0.1:8000"
    finally:
        served.terminate()
        served.wait(timeout=15)


def test_paycert_env_without_a_sandbox_is_one_line_and_exit_2() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "paycert", "env", "--url", f"http://127.0.0.1:{port}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no paycert sandbox answered" in done.stderr


@pytest.mark.parametrize(
    ("selection", "words"),
    [
        (["-s", "NOSUCH"], "unknown suite"),
        (["-s", "scenarios", "-k", "no_such_scenario_anywhere"], "no certification test"),
    ],
)
def test_a_selection_that_names_nothing_exits_2_and_never_runs_paycerts_own_tests(
    selection: list[str], words: str, tmp_path: Path
) -> None:
    run = paycert("run", *selection, report_dir=tmp_path / "reports")

    assert run.code == 2, run.stderr[-2000:]
    assert words in run.last_stderr_line()
    assert "Traceback" not in run.stderr + run.stdout
    assert "tests/" not in run.stdout + run.stderr
    assert run.readiness["verdict"] == "NO-GO"
    # Nothing about the gateways passes; the attested criteria speak of the operator, not of its reachability.
    assert {c for c in run.with_status("pass") if not c.startswith("ATT-")} == set()
    results = run.run_dir / "results.json"
    assert not results.exists() or results.read_text() == "[]"
