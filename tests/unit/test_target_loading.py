"""Target files: validated, credentials only from the environment, clear one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from paycert.core import TargetError
from paycert.targets import load_target


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def test_credentials_come_from_the_named_environment_variables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "gateways": {
                "gustaffo": {
                    "base_url": "http://127.0.0.1:1/gustaffo/",
                    "credentials": {"client_id": "CID", "client_secret": "CSEC"},
                }
            }
        },
    )

    target = load_target(path, environ={"CID": "id-1", "CSEC": "secret-1"})

    gateway = target.gateways["gustaffo"]
    assert gateway.credentials == {"client_id": "id-1", "client_secret": "secret-1"}
    assert gateway.base_url == "http://127.0.0.1:1/gustaffo"
    assert gateway.secrets == ["secret-1"]  # client_id is a public identifier in the profile
    assert "secret-1" not in repr(gateway)


def test_a_credential_the_profile_needs_but_the_target_does_not_name_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"gateways": {"gustaffo": {"base_url": "http://x", "credentials": {"client_id": "A"}}}}
    )

    with pytest.raises(TargetError, match="needs credentials client_secret"):
        load_target(path, environ={"A": "a"})


def test_a_spec_alone_gives_a_gateway_without_profile(tmp_path: Path) -> None:
    spec = Path(__file__).resolve().parents[2] / "specs" / "gustaffo" / "openapi.yaml"
    path = write(
        tmp_path,
        {"gateways": {"byo": {"base_url": "http://x", "spec": str(spec), "headers": {"X-Api-Key": "KEY"}}}},
    )

    gateway = load_target(path, environ={"KEY": "k-123456"}).gateways["byo"]

    assert gateway.profile is None
    assert "createPayment" in gateway.spec.operations
    assert gateway.headers == {"X-Api-Key": "k-123456"}
    assert gateway.secrets == ["k-123456"]


def test_a_profile_and_a_spec_together_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"gateways": {"g": {"base_url": "http://x", "spec": "a.yaml", "profile": "gustaffo"}}}
    )

    with pytest.raises(TargetError, match="invalid"):
        load_target(path, environ={})
