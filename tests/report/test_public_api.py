"""The report package's public names: curated and all importable (ruff keeps the list sorted)."""

from __future__ import annotations

import paycert.report


def test_every_public_name_exists_once() -> None:
    names = paycert.report.__all__

    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(paycert.report, name) is not None, name
    assert {"build_readiness", "write_report", "RunInfo", "Readiness", "load_readiness"} <= set(names)
