"""The page template's compiled code is kept between runs; the page is the same with it, without it, and
with a cache that is corrupt or cannot be written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from paycert.report import html_report
from paycert.report.html_report import BestEffortCache, cache_pattern, environment
from paycert.report.json_report import readiness_to_dict
from paycert.report.readiness import build_readiness
from tests.report.factory import CATALOGUE, all_passing, run_info

TEMPLATE = "readiness.html"


def _page(monkeypatch: pytest.MonkeyPatch, env: jinja2.Environment) -> str:
    monkeypatch.setattr(html_report, "_environment", lambda: env)
    document: dict[str, Any] = readiness_to_dict(build_readiness(CATALOGUE, all_passing(), run_info()))
    # The inliner's placeholders are random per page; without a run folder it has nothing to inline.
    return html_report.render_html(document)


def _cache(directory: Path) -> BestEffortCache:
    return BestEffortCache(str(directory), pattern=cache_pattern())


def _no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the template was compiled although its compiled code was in the cache")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)


def test_a_second_run_takes_the_compiled_template_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _page(monkeypatch, environment(None))
    first = _page(monkeypatch, environment(_cache(tmp_path)))
    assert len(list(tmp_path.glob("__paycert_report_*.cache"))) == 1

    _no_compiling(monkeypatch)
    second = _page(monkeypatch, environment(_cache(tmp_path)))

    assert first == second == fresh


def test_a_corrupt_cache_file_is_compiled_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = _page(monkeypatch, environment(None))
    _page(monkeypatch, environment(_cache(tmp_path)))
    (cached,) = tmp_path.glob("__paycert_report_*.cache")
    good = cached.read_bytes()
    cached.write_bytes(good[:40] + b"\x00garbage" + good[60:200])

    assert _page(monkeypatch, environment(_cache(tmp_path))) == fresh
    _no_compiling(monkeypatch)  # written again, whole: the next run reads it
    assert _page(monkeypatch, environment(_cache(tmp_path))) == fresh


def test_a_cache_that_cannot_be_written_stops_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")

    assert _page(monkeypatch, environment(_cache(not_a_folder))) == _page(monkeypatch, environment(None))


def test_other_environment_options_name_other_cache_files(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache_pattern()

    monkeypatch.setitem(html_report._OPTIONS, "trim_blocks", False)

    assert cache_pattern() != before
