"""The plugin's command-line options, all in one group (`--paycert-*`), with environment fallbacks."""

from __future__ import annotations

import os

import pytest

MARKER_CRITERION = (
    "criterion(id, ...): the go-live criteria this test evidences (ids from specs/readiness.yaml)"
)
MARKER_RECORDS = (
    "records(id, ...): the criteria this test records itself through `criteria_results` (generated tests): "
    "in the run's scope even if the test crashes before recording them"
)
MARKER_MONEY = "moves_money: creates real money movements; skipped against live targets unless allowed"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("paycert", "paycert certification")
    group.addoption(
        "--paycert-target",
        default=os.environ.get("PAYCERT_TARGET"),
        help="target file to certify (env PAYCERT_TARGET)",
    )
    group.addoption(
        "--paycert-report-dir",
        default=os.environ.get("PAYCERT_REPORT_DIR", "reports"),
        help="where run folders are written (default: reports)",
    )
    group.addoption("--paycert-run-id", default=None, help="name of this run's folder (default: time-based)")
    group.addoption(
        "--paycert-browser",
        action="store_true",
        default=False,
        help="pay on hosted pages with real Chromium instead of plain HTTP",
    )
    group.addoption(
        "--paycert-seed", type=int, default=None, help="seed for generated data (printed in the report)"
    )
    group.addoption(
        "--paycert-allow-live-writes",
        action="store_true",
        default=False,
        help="against live targets, also run what moves money (amounts capped, all voided/refunded)",
    )
    group.addoption(
        "--paycert-gateway", default="", help="only these gateways of the target (comma-separated)"
    )
    group.addoption(
        "--paycert-contract-examples",
        type=int,
        default=int(os.environ.get("PAYCERT_CONTRACT_EXAMPLES", "10")),
        help="contract suites: generated examples per operation and phase (default 10)",
    )
    group.addoption(
        "--paycert-contract-budget",
        type=float,
        default=float(os.environ.get("PAYCERT_CONTRACT_BUDGET", "300")),
        help="contract suites: seconds for the whole contract phase; what is left is not evaluated (default 300)",
    )
    group.addoption(
        "--paycert-max-duration",
        type=float,
        default=float(os.environ["PAYCERT_MAX_DURATION"]) if os.environ.get("PAYCERT_MAX_DURATION") else None,
        help="seconds for the whole run; past them nothing starts and the rest is not evaluated (default: none)",
    )
    group.addoption(
        "--paycert-run-started",
        type=float,
        default=None,
        help="(set by `paycert run`) when the run began on the monotonic clock; --paycert-max-duration counts from it",
    )
    group.addoption(
        "--paycert-selection",
        default="",
        help="(set by `paycert run`) what the user selected, for the report",
    )
    group.addoption(
        "--paycert-command", default="", help="(set by `paycert run`) its command line, for the report"
    )
    group.addoption(
        "--paycert-target-file",
        default="",
        help="(set by `paycert run`) the user's target file, '' for the embedded sandbox (rerun commands)",
    )
    group.addoption(
        "--paycert-faults", default="", help="(set by `paycert run`) sandbox faults injected, comma-separated"
    )
    group.addoption(
        "--paycert-shard",
        default="",
        help="run only shard K of N (K/N) of the collected tests; paycert merge combines the shards' reports",
    )
    group.addoption(
        "--paycert-claim-dir",
        default="",
        help="(set by `paycert run -n`) with --paycert-shard: claim units from the queue the workers share "
        "in this folder instead of a split fixed in advance",
    )
    group.addoption(
        "--paycert-durations-from",
        default="",
        help="run folder whose results.json durations balance --paycert-shard "
        "(default: the newest whole run, else paycert's reference durations)",
    )
    group.addoption(
        "--paycert-data-only",
        action="store_true",
        default=False,
        help="(set by `paycert run -n`) write readiness.json and results.json only: the merge renders the rest",
    )
    group.addoption(
        "--paycert-attestations",
        default=None,
        help="attestations file for the ATT-* criteria (default: the target's `attestations:`)",
    )


def register_markers(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_CRITERION)
    config.addinivalue_line("markers", MARKER_RECORDS)
    config.addinivalue_line("markers", MARKER_MONEY)
