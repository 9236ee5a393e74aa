"""Writes one run's reports into `reports/<run-id>/` and points `reports/latest` at it.

Layout: `reports_root/<run_id>/{readiness.json, readiness.html, junit.xml, allure-results/}` plus whatever the
run put there (screenshots, pacts/). `latest` is a relative symlink, replaced atomically; where symlinks
cannot be made it is a copy of the run folder.
"""

from __future__ import annotations

import json
import os
import secrets as _random
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paycert.core.errors import PaycertError
from paycert.core.results import TestResult
from paycert.report.allure import ALLURE_DIR, render_allure
from paycert.report.html_report import render_html
from paycert.report.json_report import dumps, readiness_to_dict
from paycert.report.junit import render_junit
from paycert.report.readiness import Readiness
from paycert.report.scrub import Scrubber

LATEST = "latest"
JSON_NAME = "readiness.json"
HTML_NAME = "readiness.html"
JUNIT_NAME = "junit.xml"
RESULTS_NAME = "results.json"


@dataclass(frozen=True)
class ReportPaths:
    run_dir: Path
    json: Path
    html: Path
    junit: Path


def write_report(
    readiness: Readiness,
    reports_root: Path,
    run_id: str,
    *,
    secrets: Iterable[str] = (),
    latest: bool = True,
    data_only: bool = False,
) -> ReportPaths:
    """Write readiness.json, readiness.html, junit.xml and allure-results/ for the run, redacted, and move
    `latest` to it (not with `latest=False`: re-rendering an old run must not make it the latest).

    `data_only`: readiness.json alone, for a worker of `paycert run -n` whose report only its merge reads (the
    pages for people are rendered once, from the merged run).
    """
    if not run_id or run_id in {LATEST, ".", ".."} or "/" in run_id or os.sep in run_id:
        raise ValueError(f"not a usable run id for a folder name: {run_id!r}")
    run_dir = reports_root / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    scrub = Scrubber(secrets)
    document: dict[str, Any] = scrub.value(readiness_to_dict(readiness))

    paths = ReportPaths(run_dir, run_dir / JSON_NAME, run_dir / HTML_NAME, run_dir / JUNIT_NAME)
    _write(paths.json, scrub.serialized(dumps(document), _is_json))
    if data_only:
        return paths
    html = render_html(
        document,
        previous=previous_readiness(reports_root, run_id, like=document),
        run_dir=run_dir,
        redact=lambda text: scrub.serialized(text, lambda out: _same_markup(text, out)),
    )
    _write(paths.html, html)
    _write(paths.junit, scrub.serialized(render_junit(document), _is_xml))
    _write_allure(run_dir / ALLURE_DIR, document, scrub)
    if latest:
        point_latest(reports_root, run_id)
    return paths


def write_results(run_dir: Path, results: Iterable[TestResult], secrets: Iterable[str] = ()) -> Path:
    """`results.json`: every test's raw result, the input `paycert report` and `paycert merge` judge from.

    Redacted like every other file the writer makes: a merge's inputs were redacted by the runs that wrote
    them, but a results file is only a file, and what leaves paycert is masked here whatever came in.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / RESULTS_NAME
    text = json.dumps([r.to_dict() for r in results], indent=1, sort_keys=True)
    _write(path, Scrubber(secrets).serialized(text, _is_json))
    return path


def load_results(run_dir: Path) -> list[TestResult]:
    """The results.json of a finished run; PaycertError (one line) when it is missing or unreadable."""
    path = run_dir / RESULTS_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [TestResult.from_dict(item) for item in raw]
    except FileNotFoundError:
        raise PaycertError(f"{run_dir}: no {RESULTS_NAME}: not the folder of a finished run") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PaycertError(f"{path}: not a readable results file ({exc})") from None


def load_run(run_dir: Path) -> dict[str, Any]:
    """The readiness.json of a run folder; PaycertError (one line) when there is none or it is unreadable."""
    if not run_dir.is_dir():
        raise PaycertError(f"{run_dir}: no such run folder")
    path = run_dir / JSON_NAME
    try:
        document = load_readiness(path)
    except FileNotFoundError:
        raise PaycertError(f"{run_dir}: no {JSON_NAME}: not the folder of a finished run") from None
    except (OSError, ValueError) as exc:
        raise PaycertError(f"{path}: not a readable report ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("run"), dict):
        raise PaycertError(f"{path}: not a paycert readiness report")
    return document


def _write_allure(directory: Path, document: dict[str, Any], scrub: Scrubber) -> None:
    directory.mkdir(exist_ok=True)
    for name, text in render_allure(document).items():
        _write(
            directory / name, scrub.serialized(text, _is_json) if name.endswith(".json") else scrub.text(text)
        )


def load_readiness(path: Path) -> dict[str, Any]:
    """A `readiness.json` document; `path` may be the file or its run folder."""
    if path.is_dir():
        path = path / JSON_NAME
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def previous_readiness(
    reports_root: Path, run_id: str, *, like: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The document of the run before `run_id` in this folder, for the trend, or None.

    Run ids begin with their UTC start time (`new_run_id`), so the previous run is the greatest other id that
    sorts before this one; a folder without a readable readiness.json (an aborted run) is passed over. With
    `like`, only a run of the same target, selection and injected faults counts: a trend against a run of
    something else would report changes nobody made.
    """
    if not reports_root.is_dir():
        return None
    candidates = sorted(
        (p for p in reports_root.iterdir() if _is_run_name(p.name) and p.name < run_id and p.is_dir()),
        key=lambda p: p.name,
        reverse=True,
    )
    for candidate in candidates:
        if candidate.is_symlink():
            continue
        try:
            found = load_readiness(candidate)
        except (OSError, ValueError):
            continue
        if like is None or _same_run_kind(found, like):
            return found
    return None


def _same_run_kind(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def kind(document: dict[str, Any]) -> tuple[Any, ...]:
        run = document.get("run") or {}
        # A shard is compared only with the same shard of an earlier split: its scope is its slice of tests.
        shard = run.get("shard") or {}
        return (
            run.get("target"),
            run.get("target_file", ""),
            run.get("selection"),
            run.get("faults", []),
            (shard.get("index"), shard.get("total")),
        )

    return kind(a) == kind(b)


def _is_run_name(name: str) -> bool:
    # `latest` and the hidden staging folders of an interrupted write are not runs.
    return name != LATEST and not name.startswith(".")


def point_latest(reports_root: Path, run_id: str) -> Path:
    """Make `reports_root/latest` show the run: a relative symlink swapped in atomically, else a copy."""
    latest = reports_root / LATEST
    staging = reports_root / f".{LATEST}.{_random.token_hex(4)}"
    try:
        staging.symlink_to(run_id, target_is_directory=True)
    except (OSError, NotImplementedError):
        return _copy_latest(reports_root, run_id)
    if latest.is_dir() and not latest.is_symlink():
        # A copy left by an earlier run on a system without symlinks; a rename cannot replace a directory.
        shutil.rmtree(latest)
    os.replace(staging, latest)
    return latest


def _copy_latest(reports_root: Path, run_id: str) -> Path:
    latest = reports_root / LATEST
    staging = reports_root / f".{LATEST}.{_random.token_hex(4)}"
    shutil.copytree(reports_root / run_id, staging)
    retired = reports_root / f".{LATEST}.old.{_random.token_hex(4)}"
    if latest.is_symlink() or latest.is_file():
        latest.unlink()
    elif latest.exists():
        latest.rename(retired)
    staging.rename(latest)
    shutil.rmtree(retired, ignore_errors=True)
    return latest


def _write(path: Path, text: str) -> None:
    # Write beside and rename, so a reader (or a crash) never sees half a report.
    staging = path.with_name(f".{path.name}.{_random.token_hex(4)}")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _is_xml(text: str) -> bool:
    try:
        ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output, parsed to check it is well formed
    except ET.ParseError:
        return False
    return True


def _same_markup(before: str, after: str) -> bool:
    """Redaction left every tag intact: it added or removed no markup character."""
    return all(before.count(ch) == after.count(ch) for ch in "<>&\"'")
