"""Where paycert's data lives: the specs (built-in gateways, criteria, schemas) and the suites."""

from __future__ import annotations

import os
from pathlib import Path

from paycert.core.errors import TargetError

_MARKER = Path("specs") / "readiness.yaml"


def find_home(start: Path | None = None) -> Path:
    """The paycert checkout to use: $PAYCERT_HOME, else the current directory or a parent holding
    specs/readiness.yaml, else the checkout this package was installed from (editable installs)."""
    explicit = os.environ.get("PAYCERT_HOME")
    if explicit:
        home = Path(explicit).expanduser().resolve()
        if not (home / _MARKER).is_file():
            raise TargetError(f"PAYCERT_HOME={explicit} holds no {_MARKER}")
        return home
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    package_parent = Path(__file__).resolve().parents[2]
    if (package_parent / _MARKER).is_file():
        return package_parent
    raise TargetError(
        "cannot find paycert's specs/ and suites/: run paycert inside its checkout or set PAYCERT_HOME"
    )


def specs_dir(home: Path | None = None) -> Path:
    return (home or find_home()) / "specs"


def suites_dir(home: Path | None = None) -> Path:
    return (home or find_home()) / "suites"
