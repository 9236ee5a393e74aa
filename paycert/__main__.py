"""`python -m paycert`: the same as the `paycert` command."""

from __future__ import annotations

from paycert.cli.main import entry

entry()
