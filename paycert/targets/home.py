"""Where paycert's data lives: the specs (built-in gateways, criteria, schemas), the suites and fixtures."""

from __future__ import annotations

import os
from pathlib import Path

from paycert.core.errors import TargetError

_MARKER = Path("specs") / "readiness.yaml"
# The package this module belongs to: `paycert/targets/home.py` -> `paycert/`.
_PACKAGE = Path(__file__).resolve().parents[1]
# Where a wheel carries the top-level specs/, suites/ and fixtures/ (mapped in at build time: setup.py).
PACKAGE_DATA = _PACKAGE / "_data"


def find_home(start: Path | None = None) -> Path:
    """The folder holding paycert's specs/, suites/ and fixtures/, in this order:

    1. $PAYCERT_HOME (a checkout, or any copy of those folders);
    2. the current directory or a parent holding specs/readiness.yaml (a developer's checkout);
    3. the checkout this package was imported from (an editable install run from elsewhere);
    4. the data the installed wheel carries (`paycert/_data`), so `pip install paycert` runs anywhere.
    """
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
    for candidate in (_PACKAGE.parent, PACKAGE_DATA):
        if (candidate / _MARKER).is_file():
            return candidate
    raise TargetError(
        f"cannot find paycert's specs/ and suites/: this paycert ({_PACKAGE}) carries none; "
        "reinstall it (pip install paycert) or set PAYCERT_HOME to a paycert checkout"
    )


def specs_dir(home: Path | None = None) -> Path:
    return (home or find_home()) / "specs"


def suites_dir(home: Path | None = None) -> Path:
    return (home or find_home()) / "suites"
