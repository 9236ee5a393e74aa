"""The plugin with pytester: inert without a target; with one, n/a is never a pass and results are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from paycert.sandbox import SandboxServer
from paycert.sandbox.gateways import gustaffo

pytest_plugins = ["pytester"]


def test_without_a_target_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert "paycert" not in result.stdout.str().split("\n")[0]


def test_outcomes_become_criterion_results(
    pytester: pytest.Pytester, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = pytester.path / "target.yaml"
    target.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "gateways": {
                    "gustaffo": {
                        "base_url": f"{sandbox.base_url}/gustaffo",
                        "credentials": {"client_id": "T_CID", "client_secret": "T_CSEC"},
                    }
                },
            }
        )
    )
    pytester.makepyfile(
        """
        import pytest
        from paycert.core import NotApplicable

        @pytest.mark.criterion("PAY-AMOUNT")
        def test_passes(gateway):
            assert gateway.token()

        @pytest.mark.criterion("PAY-3DS")
        def test_not_applicable(gateway):
            raise NotApplicable("no challenge here")

        @pytest.mark.criterion("PAY-CANCEL")
        def test_fails(gateway):
            assert False, "the payment stayed pending"
        """
    )
    monkeypatch.setenv("T_CID", gustaffo.CREDENTIALS["client_id"])
    monkeypatch.setenv("T_CSEC", gustaffo.CREDENTIALS["client_secret"])
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # paycert's specs/ are found from here
    reports = pytester.path / "reports"

    result = pytester.runpytest_subprocess(
        str(pytester.path),
        "--paycert-target",
        str(target),
        "--paycert-report-dir",
        str(reports),
        "--paycert-run-id",
        "r1",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(pytester.path),
    )

    result.assert_outcomes(passed=1, skipped=1, failed=1)
    document = json.loads((reports / "r1" / "readiness.json").read_text())
    statuses = {c["id"]: c["status"] for c in document["criteria"]}
    assert statuses["PAY-AMOUNT"] == "pass"
    assert statuses["PAY-3DS"] == "not_applicable"
    assert statuses["PAY-CANCEL"] == "fail"
    assert document["verdict"] == "NO-GO"
    cancel = next(c for c in document["criteria"] if c["id"] == "PAY-CANCEL")
    assert cancel["gateways"]["gustaffo"]["reason"] == "the payment stayed pending"


def _gustaffo_target(
    pytester: pytest.Pytester, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    target = pytester.path / "target.yaml"
    gateway = {
        "base_url": f"{sandbox.base_url}/gustaffo",
        "credentials": {"client_id": "T_CID", "client_secret": "T_CSEC"},
    }
    target.write_text(yaml.safe_dump({"name": "t", "gateways": {"gustaffo": gateway}}))
    monkeypatch.setenv("T_CID", gustaffo.CREDENTIALS["client_id"])
    monkeypatch.setenv("T_CSEC", gustaffo.CREDENTIALS["client_secret"])
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # paycert's specs/ are found from here
    return target


def _run(pytester: pytest.Pytester, target: Path, selection: dict[str, object]) -> dict[str, object]:
    reports = pytester.path / "reports"
    pytester.runpytest_subprocess(
        str(pytester.path),
        "--paycert-target",
        str(target),
        "--paycert-report-dir",
        str(reports),
        "--paycert-run-id",
        "r1",
        "--paycert-selection",
        json.dumps(selection),
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(pytester.path),
    )
    document: dict[str, object] = json.loads((reports / "r1" / "readiness.json").read_text())
    return document


def test_a_pass_with_no_request_to_the_gateway_is_not_evaluated(
    pytester: pytest.Pytester, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _gustaffo_target(pytester, sandbox, monkeypatch)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.criterion("PAY-AMOUNT")
        def test_asks_the_gateway(gateway):
            assert gateway.token()

        @pytest.mark.criterion("PAY-CANCEL")
        def test_asks_nobody(gateway):
            assert gateway.id == "gustaffo"
        """
    )

    document = _run(pytester, target, {"suites": ["mine"]})

    statuses = {c["id"]: c["status"] for c in document["criteria"]}  # type: ignore[attr-defined]
    assert statuses == {"PAY-AMOUNT": "pass", "PAY-CANCEL": "not_evaluated"}
    assert document["verdict"] == "NO-GO"


def test_criteria_of_a_test_that_crashed_before_recording_stay_in_scope_as_not_evaluated(
    pytester: pytest.Pytester, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The generated contract test records its criteria itself; if it crashes first (a spec it cannot read),
    # those criteria must not leave the scope and let the rest of the run say GO.
    target = _gustaffo_target(pytester, sandbox, monkeypatch)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.criterion("PAY-AMOUNT")
        def test_asks_the_gateway(gateway):
            assert gateway.token()

        @pytest.mark.records("CON-SCHEMA", "CON-STATUS")
        def test_generated(gateway, criteria_results):
            raise TypeError("'str' object has no attribute 'items'")
        """
    )

    document = _run(pytester, target, {"suites": ["contract"]})

    statuses = {c["id"]: c["status"] for c in document["criteria"]}  # type: ignore[attr-defined]
    assert statuses == {"PAY-AMOUNT": "pass", "CON-SCHEMA": "not_evaluated", "CON-STATUS": "not_evaluated"}
    assert document["verdict"] == "NO-GO"
    errors = document["run"]["harness_errors"]  # type: ignore[index]
    assert any("test_generated" in e and "TypeError" in e for e in errors), errors


def test_a_suite_module_that_cannot_be_collected_is_a_harness_error(
    pytester: pytest.Pytester, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _gustaffo_target(pytester, sandbox, monkeypatch)
    pytester.makepyfile(
        test_fine="""
        import pytest

        @pytest.mark.criterion("PAY-AMOUNT")
        def test_asks_the_gateway(gateway):
            assert gateway.token()
        """,
        test_broken="import no_such_module_anywhere\n",
    )

    document = _run(pytester, target, {"suites": ["mine"]})

    assert document["verdict"] == "NO-GO"
    errors = document["run"]["harness_errors"]  # type: ignore[index]
    assert any("test_broken.py: could not be collected" in e for e in errors), errors
