"""The load phase's child process: `python -m paycert.load.runner CONFIG.json`.

Runs the locustfile's users with Locust as a library (one LocalRunner), stops them at the phase's bound, and
writes the figures (JSON) to the configuration's `results_file`. Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from locust import events
from locust.env import Environment
from locust.stats import RequestStats, StatsEntry

from paycert.core.errors import PaycertError
from paycert.load import locustfile
from paycert.load.config import LoadConfig
from paycert.load.figures import LoadFigures, OperationFigures

SPAWN_RATE = 100.0  # users per second: every user starts at once, the budget paces the requests


def run(config: LoadConfig) -> LoadFigures:
    owner = locustfile.prepare(config)
    env = Environment(user_classes=[locustfile.CheckoutUser], events=events)
    runner = env.create_local_runner()
    env.events.init.fire(environment=env, runner=runner, web_ui=None)  # type: ignore[no-untyped-call]
    owner.budget.start()
    runner.start(config.users, spawn_rate=SPAWN_RATE)
    # Users stop themselves at the bound (their next request finds no place); the runner is quit as soon as
    # all have, or when the time and its grace are up with answers still outstanding.
    locustfile.wait_for_users(runner, owner)
    seconds = owner.budget.elapsed
    runner.quit()
    problems = owner.undo_live_payments()
    # The budget names the bound that ended the phase; a phase whose users all stopped before either bound (no
    # success card to pay with) says so rather than naming a bound it never reached.
    if owner.budget.stopped_by:
        stopped_by = owner.budget.stopped_by
    elif seconds >= config.max_seconds:
        stopped_by = "max_seconds"
    elif owner.budget.sent >= config.max_requests:
        stopped_by = "max_requests"
    else:
        stopped_by = "users"
    return LoadFigures(
        users=config.users,
        max_requests=config.max_requests,
        max_seconds=config.max_seconds,
        pace=config.pace,
        stopped_by=stopped_by,
        seconds=round(seconds, 3),
        requests=owner.budget.sent,
        answered=owner.answered,
        failed=owner.failed,
        iterations=owner.iterations,
        completed=owner.completed,
        operations=_operations(env.stats, seconds),
        errors=tuple(
            f"{e.name}: {e.error} ({e.occurrences}x)"
            for e in sorted(env.stats.errors.values(), key=lambda e: -e.occurrences)
        ),
        problems=tuple(problems),
    )


def _operations(stats: RequestStats, seconds: float) -> tuple[OperationFigures, ...]:
    """Per operation (its name), the methods merged: token, create, pay, status."""
    merged: dict[str, StatsEntry] = {}
    for entry in stats.entries.values():
        if entry.name not in merged:
            merged[entry.name] = StatsEntry(stats, entry.name, "", use_response_times_cache=False)
        merged[entry.name].extend(entry)
    order = ["token", "create", "pay", "status"]
    names = sorted(merged, key=lambda n: (order.index(n) if n in order else len(order), n))
    return tuple(
        OperationFigures(
            name=name,
            requests=merged[name].num_requests,
            failures=merged[name].num_failures,
            p50_ms=float(merged[name].get_response_time_percentile(0.50) or 0),
            p95_ms=float(merged[name].get_response_time_percentile(0.95) or 0),
            p99_ms=float(merged[name].get_response_time_percentile(0.99) or 0),
            rps=round(merged[name].num_requests / seconds, 2) if seconds > 0 else 0.0,
        )
        for name in names
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m paycert.load.runner CONFIG.json", file=sys.stderr)
        return 2
    try:
        config = LoadConfig.from_file(Path(argv[1]))
        if not config.results_file:
            raise PaycertError(f"{argv[1]}: results_file is not set")
        started = time.monotonic()
        figures = run(config)
    except PaycertError as exc:
        print(f"paycert load phase: {exc}", file=sys.stderr)
        return 2
    Path(config.results_file).write_text(json.dumps(figures.to_dict(), sort_keys=True), encoding="utf-8")
    print(
        f"paycert load phase: {figures.requests} requests in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
