"""`paycert init` scaffolds a team's repo without overwriting, and a team's own profiles beside its target win."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from paycert.cli.main import app
from paycert.core.errors import ProfileError
from paycert.sandbox.gateways import gustaffo
from paycert.targets.home import specs_dir
from paycert.targets.target import load_target
from paycert.targets.validate import validate

SCAFFOLDED = (
    "paycert-target.yaml",
    "paycert-attestations.yaml",
    "profiles/acme/profile.yaml",
    "profiles/acme/openapi.yaml",
    "ci/paycert.github-actions.yml",
    "ci/paycert.gitlab-ci.yml",
)


def test_init_writes_a_target_profile_attestations_and_ci_that_validate(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "cert"), "-g", "acme"])

    assert result.exit_code == 0, result.output
    for name in SCAFFOLDED:
        assert (tmp_path / "cert" / name).is_file(), name
    found = validate(
        [tmp_path / "cert" / "paycert-target.yaml"], [str(tmp_path / "cert/profiles/acme/profile.yaml")]
    )
    assert found.errors == [], found.problems
    attestations = (tmp_path / "cert" / "paycert-attestations.yaml").read_text()
    assert "ATT-PCI-DSS" in attestations
    assert "--target cert/paycert-target.yaml" not in (tmp_path / "cert/ci/paycert.gitlab-ci.yml").read_text()


def test_init_never_overwrites_and_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "acme").mkdir(parents=True)
    mine = tmp_path / "profiles" / "acme" / "profile.yaml"
    mine.write_text("id: acme  # the team's own, hand-written\n")

    result = CliRunner().invoke(app, ["init", str(tmp_path), "-g", "acme"])

    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "already exists" in result.output
    assert mine.read_text() == "id: acme  # the team's own, hand-written\n"
    assert not (tmp_path / "paycert-target.yaml").exists(), "nothing is written when one file exists"


@pytest.mark.parametrize("bad", ["Acme Pay", "1acme", "../x"])
def test_init_refuses_a_bad_gateway_id_in_one_line(tmp_path: Path, bad: str) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path), "-g", bad])

    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert list(tmp_path.iterdir()) == []


def _gustaffo_target(folder: Path, monkeypatch: pytest.MonkeyPatch, key: str = "gustaffo") -> Path:
    monkeypatch.setenv("T_CID", gustaffo.CREDENTIALS["client_id"])
    monkeypatch.setenv("T_CSEC", gustaffo.CREDENTIALS["client_secret"])
    target = folder / "target.yaml"
    entry = {
        "base_url": "http://127.0.0.1:9/gustaffo",
        "credentials": {"client_id": "T_CID", "client_secret": "T_CSEC"},
    }
    target.write_text(yaml.safe_dump({"name": "t", "gateways": {key: entry}}))
    return target


def test_a_profile_in_profiles_id_beside_the_target_wins_over_the_built_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _gustaffo_target(tmp_path, monkeypatch)
    assert load_target(target).gateways["gustaffo"].profile.path == specs_dir() / "gustaffo" / "profile.yaml"

    own = tmp_path / "profiles" / "gustaffo"
    shutil.copytree(specs_dir() / "gustaffo", own)  # the built-in profile, its spec and schemas, adapted
    profile_yaml = own / "profile.yaml"
    profile_yaml.write_text(
        profile_yaml.read_text().replace("\ntitle: ", "\ntitle: Gustaffo as our team configured it  # ", 1)
    )

    profile = load_target(target).gateways["gustaffo"].profile

    assert profile is not None
    assert profile.path == tmp_path / "profiles" / "gustaffo" / "profile.yaml"
    assert profile.title == "Gustaffo as our team configured it"
    assert validate([target]).errors == []


def test_a_new_gateway_id_is_found_in_profiles_beside_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _gustaffo_target(tmp_path, monkeypatch, key="quetzal")
    with pytest.raises(ProfileError, match=r"profiles/quetzal/profile\.yaml"):
        load_target(target)

    fourth = Path(__file__).resolve().parents[1] / "fourth_gateway"
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "quetzal").symlink_to(fourth, target_is_directory=True)
    monkeypatch.setenv("T_MID", "m-1")
    monkeypatch.setenv("T_SEC", "s-123456")
    monkeypatch.setenv("T_WH", "w-123456")
    entry = {
        "base_url": "http://127.0.0.1:9/q",
        "credentials": {"merchant_id": "T_MID", "api_secret": "T_SEC", "webhook_secret": "T_WH"},
    }
    target.write_text(yaml.safe_dump({"name": "t", "gateways": {"quetzal": entry}}))

    profile = load_target(target).gateways["quetzal"].profile

    assert profile is not None
    assert profile.id == "quetzal"
