"""The state of one certification run, kept in pytest's stash (never in globals)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.core.results import TestResult
from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder, probe
from paycert.redaction import Redactor
from paycert.report import new_run_id, utc_now_iso
from paycert.shopper import BrowserShopper, HttpShopper, ShopperDriver
from paycert.targets.attestations import AttestationBook
from paycert.targets.bounds import Deadline
from paycert.targets.target import GatewayTarget, Target
from paycert.webhooks.sink import WebhookSink


@dataclass
class RunState:
    target: Target
    catalogue: Catalogue
    reports_root: Path
    run_id: str
    browser: bool
    seed: int | None
    selection: str
    redactor: Redactor
    recorder: Recorder
    started_at: str = field(default_factory=utc_now_iso)
    results: list[TestResult] = field(default_factory=list)
    harness_errors: list[str] = field(default_factory=list)
    # The criteria the selected tests evidence (markers of every collected, selected test): the run's scope
    # comes from what was selected, never from what happened to be recorded.
    scope: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GatewayClient] = field(default_factory=dict)
    webhooks_ready: dict[str, str] = field(default_factory=dict)
    sink: WebhookSink | None = None
    shopper: ShopperDriver | None = None
    # Chromium for the journeys that need a real browser whatever --browser says (a payment link's page), one
    # per CA file, kept for the session: launched per journey it cost ~0.8 s of two cores each time.
    link_browsers: dict[Path | None, BrowserShopper] = field(default_factory=dict)
    allow_live_writes: bool = False
    deadline: Deadline | None = None  # the run's --max-duration (plugin/deadline.py)
    attestations: AttestationBook = field(default_factory=lambda: AttestationBook(None))

    @classmethod
    def create(
        cls,
        target: Target,
        catalogue: Catalogue,
        reports_root: Path,
        *,
        run_id: str | None,
        browser: bool,
        seed: int | None,
        selection: str,
    ) -> RunState:
        redactor = Redactor(target.secrets, target.secret_variables)
        return cls(
            target=target,
            catalogue=catalogue,
            reports_root=reports_root,
            run_id=run_id or new_run_id(),
            browser=browser,
            seed=seed,
            selection=selection,
            redactor=redactor,
            recorder=Recorder(redactor),
        )

    @property
    def run_dir(self) -> Path:
        return self.reports_root / self.run_id

    def waiting(self, what: str) -> AbstractContextManager[None]:
        """`with run.waiting("a COMPLETED webhook"):` around a long wait: the console says what it waits for."""
        return self.recorder.waiting(what)

    def harness_error(self, message: str) -> None:
        line = self.redactor.text(message.splitlines()[0] if message else "harness error")
        if line not in self.harness_errors:
            self.harness_errors.append(line)

    # -- shared resources, started lazily and stopped at the end of the session ---------------------------

    def preflight(self) -> None:
        """Reach each gateway once before any test, so an unreachable one is reported up front."""
        for gid, gateway in self.target.gateways.items():
            reason = _probe(gateway)
            if reason:
                self.unreachable[gid] = reason
                self.harness_error(f"{gid}: {reason}")

    def client(self, gid: str) -> GatewayClient:
        if gid not in self.clients:
            self.clients[gid] = GatewayClient(
                self.target.gateways[gid],
                self.recorder,
                run_deadline=self.deadline,
                allow_live_writes=self.allow_live_writes,
                run_max_amount=self.target.live_max_amount,
            )
        return self.clients[gid]

    def webhook_sink(self) -> WebhookSink:
        if self.sink is None:
            host, _, port = self.target.webhook_bind.rpartition(":")
            self.sink = WebhookSink(host or "127.0.0.1", int(port or 0)).start()
        return self.sink

    def webhook_base(self) -> str:
        return (self.target.webhook_public_url or self.webhook_sink().url).rstrip("/")

    def shopper_driver(self) -> ShopperDriver:
        if self.shopper is None:
            if self.browser:
                cas = [g.ca_file for g in self.target.gateways.values() if g.ca_file]
                self.shopper = BrowserShopper(self.run_dir / "screenshots", ca_file=cas[0] if cas else None)
            else:
                ca = next((g.ca_file for g in self.target.gateways.values() if g.ca_file), None)
                self.shopper = HttpShopper(verify=ca if ca else True)
        return self.shopper

    def undo_live_writes(self) -> None:
        """Undo what the run wrote to live gateways, before the report is written: what cannot be undone is
        a harness error (exit 2) naming each payment, so nothing is left behind silently."""
        for client in self.clients.values():
            if client.target.is_live:
                for problem in client.undo_live_payments():
                    self.harness_error(problem)
            else:
                # A sandbox (or test system) is not a live account: a registration left there costs no money
                # and changes no verdict, so it is noted in the evidence rather than failing the run.
                for problem in client.unregister_webhooks():
                    client.recorder.note(problem, "webhook registration")

    def link_browser(self, ca_file: Path | None) -> BrowserShopper:
        """The session's Chromium for pages only a real browser can pay (not started: `start()` it).

        Each journey still gets a fresh browser context (no cookies, storage or cache from the one before).
        With --browser a checkout's own shopper is Chromium already and this is not asked for.
        """
        if ca_file not in self.link_browsers:
            self.link_browsers[ca_file] = BrowserShopper(None, ca_file=ca_file)
        return self.link_browsers[ca_file]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        if self.shopper is not None:
            self.shopper.close()
        for browser in self.link_browsers.values():
            browser.close()
        if self.sink is not None:
            self.sink.stop()


def _probe(gateway: GatewayTarget) -> str | None:
    return probe(gateway.base_url, seconds=min(gateway.timeout_seconds, 5.0), ca_file=gateway.ca_file)


@dataclass(frozen=True, eq=False)  # hashed by identity: pluggy keeps its plugins in a set
class LoadedTarget:
    """A pytest plugin object `paycert run` passes with the target file it has already read and validated.

    The session takes the target from it instead of reading the same files again: parsing and validating a
    target's profiles and OpenAPI documents was a second cost of every run (issue 15). Only for the same file:
    `pytest --paycert-target FILE` run directly has no such object and loads the file itself.
    """

    path: Path
    target: Target


def loaded_target(config: pytest.Config, path: Path) -> Target | None:
    """The target `paycert run` handed over for `path`, if it did."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, LoadedTarget) and plugin.path == path:
            return plugin.target
    return None


RUN_STATE = pytest.StashKey[RunState]()


def run_state(config: pytest.Config) -> RunState:
    try:
        return config.stash[RUN_STATE]
    except KeyError:
        raise PaycertError(
            "this test needs a target: run it with `paycert run` or `pytest --paycert-target FILE`"
        ) from None
