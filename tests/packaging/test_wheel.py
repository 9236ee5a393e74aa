"""The wheel alone is a working paycert: built, installed in a fresh venv, run from an empty folder elsewhere.

Nothing of the checkout may leak in: the wheel is built from a copy of the files a release is made of, the
venv's paycert must be the wheel's (not this editable checkout), and the commands run in an empty temp folder
outside the checkout with PAYCERT_HOME, PYTHONPATH and PAYCERT_TARGET unset. The venv reuses the
dependencies already installed (`--system-site-packages`), so only the wheel itself is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a release is built from; nothing else of the checkout (tests/, reports/, docs/) is needed.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "paycert", "specs", "suites", "fixtures")
# The embedded default run takes about 3 minutes on two shared cores; building and installing, one more.
WHOLE_RUN_SECONDS = 720

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    workdir: Path  # empty, outside the checkout

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        leaks = {"PAYCERT_HOME", "PYTHONPATH", "PAYCERT_TARGET", "VIRTUAL_ENV", "PYTHONHOME"}
        env = {k: v for k, v in os.environ.items() if k not in leaks}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _copy_sources(destination: Path) -> Path:
    destination.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(REPO), "the temp folder must be outside the checkout"
    source = _copy_sources(root / "src")
    dist = root / "dist"
    # Build isolation, as `pip install paycert` and CI build it: the declared setuptools, not whatever is here.
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("paycert-*.whl")
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    workdir = root / "team-repo"
    workdir.mkdir()
    where = Installed(wheel, venv, workdir)
    done = where.run(
        str(where.bin / "python"), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return where


def test_the_wheel_carries_the_specs_suites_catalogue_schemas_and_fixtures(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for tracked in ("specs", "suites", "fixtures"):
        for path in (REPO / tracked).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"paycert/_data/{path.relative_to(REPO).as_posix()}" in names
    for needed in (
        "paycert/_data/specs/readiness.yaml",
        "paycert/_data/specs/profile.schema.json",
        "paycert/_data/fixtures/attestations.example.yaml",
        "paycert/cli/scaffold/profile.yaml",
        "paycert/report/templates/readiness.html",
    ):
        assert needed in names
    print(f"wheel: {installed.wheel.stat().st_size / 1024:.0f} KiB")


def test_the_venvs_paycert_is_the_wheels_and_finds_its_data_in_itself(installed: Installed) -> None:
    done = installed.run(
        str(installed.bin / "python"),
        "-c",
        "import paycert; from paycert.targets.home import find_home; print(paycert.__file__); print(find_home())",
    )

    assert done.returncode == 0, done.stderr[-2000:]
    module, home = (Path(line) for line in done.stdout.split())
    assert module.is_relative_to(installed.venv), f"{module} is not the wheel's paycert"
    assert home == module.parent / "_data"
    assert not home.is_relative_to(REPO)


def test_init_scaffolds_a_team_repo_that_validates(installed: Installed) -> None:
    made = installed.run("paycert", "init")
    again = installed.run("paycert", "init")
    checked = installed.run("paycert", "validate", "--target", "paycert-target.yaml")
    own = installed.run("paycert", "validate", "my-gateway")  # profiles/my-gateway/ of this folder

    assert made.returncode == 0, made.stderr
    for name in (
        "paycert-target.yaml",
        "paycert-attestations.yaml",
        "profiles/my-gateway/profile.yaml",
        "profiles/my-gateway/openapi.yaml",
        "ci/paycert.github-actions.yml",
        "ci/paycert.gitlab-ci.yml",
    ):
        assert (installed.workdir / name).is_file(), name
    assert again.returncode == 2
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert own.returncode == 0, own.stdout + own.stderr
    assert "2 files checked" in checked.stderr


def _verdict(installed: Installed, reports: str) -> tuple[str, dict[str, object]]:
    document = json.loads((installed.workdir / reports / "latest" / "readiness.json").read_text())
    return str(document["verdict"]), document


def test_a_narrowed_run_of_the_embedded_sandbox_is_go(installed: Installed) -> None:
    done = installed.run(
        "paycert", "run", "-s", "scenarios", "-g", "gustaffo", "--report-dir", "narrow", timeout=400
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    verdict, document = _verdict(installed, "narrow")
    assert verdict == "GO"
    assert document["out_of_scope"], "a narrowed run judges only what it selected"


@pytest.mark.timeout(WHOLE_RUN_SECONDS)
def test_the_default_run_of_the_embedded_sandbox_is_go(installed: Installed) -> None:
    done = installed.run("paycert", "run", "--report-dir", "whole", timeout=WHOLE_RUN_SECONDS - 60)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    verdict, document = _verdict(installed, "whole")
    assert verdict == "GO"
    assert document["out_of_scope"] == [], "the default run judges the whole catalogue"
