"""A team's own pytest suite, in its own project, using the plugin's fixtures: its report judges what it selected.

The project lives in a temp folder outside the checkout and is run the way a team runs it: `python -m pytest`
in its folder, the target named in its own pytest.ini. Nothing points it at paycert's checkout: paycert finds
its catalogue and specs as an installed paycert does (tests/packaging/test_wheel.py proves the wheel alone).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from paycert.core.criteria import Catalogue
from paycert.sandbox.gateways import gustaffo
from paycert.targets.home import specs_dir
from tests.conftest import StartSandbox

TEAM_TESTS = """
import pytest

from paycert.core.states import PaymentState


@pytest.mark.criterion("PAY-SUCCESS")
def test_a_paid_order_is_completed(checkout, gateway_client):
    paid = checkout.pay("COMPLETED")
    assert checkout.status(paid.payment) is PaymentState.COMPLETED
    assert gateway_client.id == "gustaffo"


@pytest.mark.criterion("PAY-DECLINED")
def test_a_declined_card_fails(checkout, webhook_sink):
    declined = checkout.pay("FAILED")
    assert checkout.status(declined.payment) is PaymentState.FAILED
    assert webhook_sink.url.startswith("http://127.0.0.1:")


def test_the_teams_own_arithmetic():
    assert 1 + 1 == 2  # not about a criterion: the report neither counts nor needs it
"""

CREDENTIALS = {"TEAM_GUSTAFFO_ID": "client_id", "TEAM_GUSTAFFO_SECRET": "client_secret"}


def _team_project(root: Path, base_url: str) -> Path:
    """A team's repo: its target (gateway key `gustaffo`, built-in profile), pytest.ini and one test file."""
    project = root / "team-shop"
    (project / "tests").mkdir(parents=True)
    target = {
        "name": "team shop on the sandbox",
        "gateways": {
            "gustaffo": {
                "base_url": f"{base_url}/gustaffo",
                "control_url": f"{base_url}/_sandbox",
                "credentials": {name: variable for variable, name in CREDENTIALS.items()},
            }
        },
    }
    (project / "paycert-target.yaml").write_text(yaml.safe_dump(target), encoding="utf-8")
    (project / "pytest.ini").write_text(
        "[pytest]\naddopts = --paycert-target paycert-target.yaml --paycert-run-id team -p no:cacheprovider\n",
        encoding="utf-8",
    )
    (project / "tests" / "test_checkout.py").write_text(TEAM_TESTS, encoding="utf-8")
    return project


def _pytest_in(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in {"PAYCERT_TARGET", "PAYCERT_HOME", "PYTHONPATH"}}
    env |= {variable: gustaffo.CREDENTIALS[name] for variable, name in CREDENTIALS.items()}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:timeout", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    readiness = project / "reports" / "team" / "readiness.json"
    assert readiness.is_file(), done.stdout[-3000:] + done.stderr[-2000:]
    document: dict[str, Any] = json.loads(readiness.read_text(encoding="utf-8"))
    return done, document


def _catalogue_ids() -> set[str]:
    return {c.id for c in Catalogue.from_path(specs_dir() / "readiness.yaml")}


def test_a_teams_suite_is_judged_on_the_criteria_it_selected(
    tmp_path: Path, start_sandbox: StartSandbox
) -> None:
    project = _team_project(tmp_path, start_sandbox().base_url)

    done, document = _pytest_in(project)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout
    judged = {c["id"]: c["status"] for c in document["criteria"]}
    assert judged == {"PAY-SUCCESS": "pass", "PAY-DECLINED": "pass"}
    assert document["verdict"] == "GO"
    # Everything else of the catalogue is listed, as out of scope, never as "not evaluated".
    assert set(document["out_of_scope"]) == _catalogue_ids() - {"PAY-SUCCESS", "PAY-DECLINED"}
    assert document["summary"]["out_of_scope"] == len(_catalogue_ids()) - 2
    assert sorted(document["run"]["selection"]["criteria"]) == ["PAY-DECLINED", "PAY-SUCCESS"]
    html = (project / "reports" / "team" / "readiness.html").read_text(encoding="utf-8")
    assert f"{len(_catalogue_ids()) - 2} out of scope" in html


def test_the_same_tests_driven_as_paycert_run_with_no_selection_judge_the_whole_catalogue(
    tmp_path: Path, start_sandbox: StartSandbox
) -> None:
    """What `paycert run` passes when nothing is selected: the scope is every criterion, so this is NO-GO."""
    project = _team_project(tmp_path, start_sandbox().base_url)
    nothing_selected = {"suites": [], "criteria": [], "gateways": [], "keyword": ""}

    _done, document = _pytest_in(project, "--paycert-selection", json.dumps(nothing_selected))

    judged = {c["id"]: c["status"] for c in document["criteria"]}
    assert set(judged) == _catalogue_ids()
    assert document["out_of_scope"] == []
    assert judged["PAY-SUCCESS"] == judged["PAY-DECLINED"] == "pass"
    assert judged["OPS-REFUND"] == "not_evaluated"
    assert document["verdict"] == "NO-GO"
