"""`paycert run` hands the session the target it already loaded: the session uses it for that file only."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from paycert.plugin.session import LoadedTarget
from paycert.targets import load_target

pytest_plugins = ["pytester"]

CREDENTIALS = {"client_id": "LT_CID", "client_secret": "LT_CSEC"}


def _target_file(directory: Path) -> Path:
    path = directory / "target.yaml"
    gateway = {"base_url": "http://127.0.0.1:9/gustaffo", "credentials": CREDENTIALS}
    path.write_text(
        yaml.safe_dump({"name": "as written", "gateways": {"gustaffo": gateway}}), encoding="utf-8"
    )
    return path


def _run(pytester: pytest.Pytester, target: Path, handed: LoadedTarget) -> str:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--paycert-target",
        str(target),
        "--paycert-run-id",
        "handed",
        "--paycert-report-dir",
        str(pytester.path / "reports"),
        plugins=[handed],
    )
    readiness = json.loads((pytester.path / "reports" / "handed" / "readiness.json").read_text())
    return str(readiness["run"]["target"])


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in CREDENTIALS.values():
        monkeypatch.setenv(variable, "x")


@pytest.mark.usefixtures("credentials")
def test_the_session_takes_the_target_it_is_handed_for_its_file(pytester: pytest.Pytester) -> None:
    path = _target_file(pytester.path)
    handed = dataclasses.replace(load_target(path), name="as handed over")

    assert _run(pytester, path, LoadedTarget(path, handed)) == "as handed over"


@pytest.mark.usefixtures("credentials")
def test_a_target_handed_for_another_file_is_not_used(pytester: pytest.Pytester) -> None:
    path = _target_file(pytester.path)
    other = dataclasses.replace(load_target(path), name="of another file")

    assert _run(pytester, path, LoadedTarget(pytester.path / "other.yaml", other)) == "as written"
