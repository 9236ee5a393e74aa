"""`paycert init [DIR]`: scaffold paycert in a team's own repository, next to its code.

It writes a commented target file, a profile skeleton with its spec, an attestations file and CI snippets,
and never overwrites: if any of them exists, it writes nothing and says which (exit 2).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.targets.home import specs_dir
from paycert.targets.profile import OWN_PROFILES

EXIT_HARNESS = 2
SCAFFOLD = Path(__file__).with_name("scaffold")
TARGET_FILE = "paycert-target.yaml"
ATTESTATIONS_FILE = "paycert-attestations.yaml"
# The profile schema's pattern for an id (specs/profile.schema.json).
GATEWAY_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


def scaffold_files(gateway: str) -> dict[str, str]:
    """What `init` writes, relative to DIR -> the scaffold template it comes from."""
    return {
        TARGET_FILE: "target.yaml",
        ATTESTATIONS_FILE: "attestations.yaml",
        f"{OWN_PROFILES}/{gateway}/profile.yaml": "profile.yaml",
        f"{OWN_PROFILES}/{gateway}/openapi.yaml": "openapi.yaml",
        "ci/paycert.github-actions.yml": "github-actions.yaml",
        "ci/paycert.gitlab-ci.yml": "gitlab-ci.yaml",
    }


def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to write the files (default: the current directory).")
    ] = Path("."),
    gateway: Annotated[
        str,
        typer.Option("--gateway", "-g", help="Id of your gateway: its profile goes to profiles/<id>/."),
    ] = "my-gateway",
) -> None:
    """Scaffold paycert in your repository: target, profile skeleton, attestations, CI snippets."""
    try:
        if not GATEWAY_ID.match(gateway):
            raise PaycertError(f"--gateway {gateway!r}: an id is lower case letters, digits, - and _")
        if directory.exists() and not directory.is_dir():
            raise PaycertError(f"{directory} exists and is not a folder")
        files = scaffold_files(gateway)
        existing = [name for name in files if (directory / name).exists()]
        if existing:
            raise PaycertError(
                f"{directory / existing[0]} already exists: nothing written (init never overwrites)"
            )
        values = _values(directory, gateway)
        for name, template in files.items():
            text = (SCAFFOLD / template).read_text(encoding="utf-8")
            for key, value in values.items():
                text = text.replace(key, value)
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as out:  # "x": even a file made meanwhile is kept
                out.write(text)
    except (PaycertError, OSError) as exc:
        typer.echo(f"paycert init: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    for name in files:
        typer.echo(f"wrote {directory / name}")
    typer.echo(
        f"next: paycert validate {directory / OWN_PROFILES / gateway / 'profile.yaml'}; "
        f"paycert run (the embedded sandbox) or paycert run --target {directory / TARGET_FILE}"
    )


def _values(directory: Path, gateway: str) -> dict[str, str]:
    """What the templates' placeholders become."""
    catalogue = Catalogue.from_path(specs_dir() / "readiness.yaml")
    attested = [
        f"#   {c.id:<24} {c.title}{' (blocking)' if c.blocking else ''}"
        for c in catalogue
        if c.evidenced_by == "attestation"
    ]
    where = os.path.relpath(directory.resolve(), Path.cwd())
    return {
        "__CRITERIA__": "\n".join(attested),
        "__DIR__": "" if where == "." else f"{Path(where).as_posix()}/",
        "__NAME__": directory.resolve().name or "paycert",
        "__GATEWAY__": gateway,
        "__ENV__": gateway.upper().replace("-", "_"),
    }
