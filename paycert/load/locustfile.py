"""The KPI load phase's Locust users: each iteration is one checkout (create a payment, pay it, read its status).

A real locustfile: paycert runs it as a library in a child process (paycert.load.runner), and the same file runs
under Locust's own command line, standalone or distributed (`--master` / `--worker`), with `PAYCERT_LOAD_CONFIG`
naming a load configuration (paycert.load.config). Never import it into the pytest process: Locust patches
the standard library with gevent on import.

Everything gateway-specific comes from the profile through paycert's generic client and HTTP shopper (token,
bodies, checksum hooks, where the id and the hosted page are). Every HTTP request, the token's and the hosted
page's included, takes a place in one budget before it leaves: at most `max_requests` are ever sent, none after
`max_seconds`, and none faster than the gateway's published rate limit allows. Each is reported to Locust under
the operation it belongs to (token, create, pay, status), its time measured to the answer's headers.
"""

# ruff: noqa: E402 - paycert's imports follow the trio guard below, on purpose
from __future__ import annotations

import os
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import LocalRunner, Runner

# gevent's patched `select` has no epoll, so trio (installed for other tools) fails to import, and httpcore
# imports it when it loads. httpcore takes a trio that is not there as "not installed", which is all its sync
# clients need: say so before paycert's client loads httpcore. (Only in this gevent process.)
sys.modules.setdefault("trio", None)  # type: ignore[arg-type]

from paycert.core.errors import PaycertError
from paycert.core.states import PaymentState
from paycert.gateways.client import GatewayClient, Payment
from paycert.gateways.http import Recorder
from paycert.load.config import CONFIG_VARIABLE, GRACE_SECONDS, LoadConfig
from paycert.redaction import Redactor
from paycert.shopper import Card, ChallengeSpec, HttpShopper, PageSpec, ShopperError
from paycert.targets.target import GatewayTarget, load_target
from paycert.targets.templates import fill

AMOUNT = Decimal("10.00")
# Where the shopper is sent back to: never requested (the shopper stops at its prefix), so any loopback URL.
DEFAULT_RETURN_BASE = "http://127.0.0.1:9/paycert-load"
READY_SECONDS = 5.0  # the longest a user waits for the others to be set up (Locust may start fewer)


class BudgetSpent(Exception):  # a signal that ends a user, not anyone's error
    """The phase's request count or time is used up: the request was not sent."""


class RefusedAnswer(Exception):  # Locust shows the class name next to each failure
    """An answer that counts as a failed request (5xx, 429)."""


@dataclass
class Budget:
    """The phase's bounds, checked before every request leaves. Greenlets switch only on I/O, so the check
    and the count are one step: two users cannot both take the last place.

    Requests of a rate-limited operation are also kept to at most `window[0]` in any `window[1]` seconds (a
    sliding window, like the limit it keeps under): the first ones leave at once, later ones wait for the
    oldest to leave the window.
    """

    max_requests: int
    max_seconds: float
    window: tuple[int, float] | None = None
    sent: int = 0
    started: float | None = None
    stopped_by: str = ""
    _paced: deque[float] = field(default_factory=deque)

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started is not None else 0.0

    @property
    def spent(self) -> bool:
        return self.sent >= self.max_requests or self.elapsed >= self.max_seconds

    def take(self, *, paced: bool = False) -> None:
        """One request's place (after its turn under the rate limit); BudgetSpent when none is left."""
        self.start()
        if paced and self.window is not None:
            count, seconds = self.window
            while len(self._paced) >= count:
                wait = self._paced[0] + seconds - time.monotonic()
                if wait <= 0:
                    self._paced.popleft()
                elif self.elapsed + wait >= self.max_seconds:
                    break  # its turn comes after the bound: the check below refuses it now
                else:
                    gevent.sleep(wait)
        if self.sent >= self.max_requests:
            self.stopped_by = self.stopped_by or "max_requests"
            raise BudgetSpent("max_requests")
        if self.elapsed >= self.max_seconds or (
            paced and self.window is not None and len(self._paced) >= self.window[0]
        ):
            self.stopped_by = self.stopped_by or "max_seconds"
            raise BudgetSpent("max_seconds")
        self.sent += 1
        if paced:
            self._paced.append(time.monotonic())


@dataclass
class Phase:
    """The process's load phase: its configuration, target, budget and what the users counted."""

    config: LoadConfig
    target: GatewayTarget
    budget: Budget
    run_max_amount: float
    paced: frozenset[str] = frozenset()  # the operations (token, create, status) under the rate limit
    ready: Event = field(default_factory=Event)  # every user is set up: the first requests may leave
    users_started: int = 0
    answered: int = 0
    failed: int = 0
    iterations: int = 0
    completed: int = 0
    clients: list[GatewayClient] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: LoadConfig) -> Phase:
        target = load_target(Path(config.target_file))
        if config.gateway not in target.gateways:
            raise PaycertError(f"load phase: {config.gateway} is not in {config.target_file}")
        gateway = target.gateways[config.gateway]
        gateway.require_profile()
        budget = Budget(config.max_requests, config.max_seconds, config.rate_window)
        return cls(config, gateway, budget, target.live_max_amount, paced=_paced(config, gateway))

    def undo_live_payments(self) -> list[str]:
        """After the phase: refund or void what it created on a live gateway (outside the budget)."""
        if not self.target.is_live:
            return []
        self.budget.max_requests = sys.maxsize
        self.budget.max_seconds = float("inf")
        return [line for client in self.clients for line in client.undo_live_payments()]


def _paced(config: LoadConfig, target: GatewayTarget) -> frozenset[str]:
    """The phase's operations the rate limit counts: those calling its operationId, or all of them."""
    if config.rate_window is None:
        return frozenset()
    profile = target.require_profile()
    calls = {
        "token": (profile.auth.get("operation") or {}).get("operation_id"),
        "create": (profile.operations.get("create_payment") or {}).get("operation_id"),
        "status": (profile.operations.get("get_payment") or {}).get("operation_id"),
    }
    if not config.rate_operation:
        return frozenset([*calls, "pay"])
    return frozenset(name for name, operation_id in calls.items() if operation_id == config.rate_operation)


_PHASE: Phase | None = None


def prepare(config: LoadConfig) -> Phase:
    """The phase for this process (the library runner calls it before Locust's `init` event)."""
    global _PHASE  # noqa: PLW0603 - one load phase per process, as Locust has one environment
    _PHASE = Phase.from_config(config)
    return _PHASE


def phase() -> Phase:
    if _PHASE is None:
        raise PaycertError(f"no load configuration: set {CONFIG_VARIABLE} to a load configuration file")
    return _PHASE


def _on_init(environment: Environment, **_: Any) -> None:
    """Under Locust's own command line: the configuration comes from the environment variable."""
    if _PHASE is not None:
        return
    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        print(f"paycert locustfile: set {CONFIG_VARIABLE} to a load configuration (JSON)", file=sys.stderr)
        sys.exit(2)
    try:
        prepare(LoadConfig.from_file(Path(path)))
    except PaycertError as exc:
        print(f"paycert locustfile: {exc}", file=sys.stderr)
        sys.exit(2)


class _Meter:
    """One user's requests: budgeted before they leave, reported to Locust under their operation."""

    def __init__(self, environment: Environment, owner: Phase) -> None:
        self.environment = environment
        self.phase = owner
        self.operation = "token"
        self._pending: tuple[float, str] | None = None

    def before(self, request: Any) -> None:
        self._settle(RefusedAnswer("no answer (retried)"))
        self.phase.budget.take(paced=self.operation in self.phase.paced)
        self._pending = (time.perf_counter(), str(request.method))

    def after(self, response: Any) -> None:
        if self._pending is None:
            return
        started, method = self._pending
        self._pending = None
        self.phase.answered += 1
        status = int(response.status_code)
        failure = RefusedAnswer(f"HTTP {status}") if status >= 500 or status == 429 else None
        self._fire(method, started, failure, int(response.headers.get("content-length") or 0))

    @contextmanager
    def measuring(self, operation: str) -> Iterator[None]:
        """Requests made inside are reported as `operation`; one that got no answer is a failure."""
        self.operation = operation
        try:
            yield
        except BudgetSpent:
            self._pending = None
            raise
        except Exception as exc:
            self._settle(exc)
            raise

    def _settle(self, exc: BaseException) -> None:
        if self._pending is not None:
            started, method = self._pending
            self._pending = None
            self._fire(method, started, exc, 0)

    def _fire(self, method: str, started: float, failure: BaseException | None, length: int) -> None:
        if failure is not None:
            self.phase.failed += 1
        self.environment.events.request.fire(  # type: ignore[no-untyped-call]
            request_type=method,
            name=self.operation,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=failure,
            context={},
        )


class CheckoutUser(User):
    """A merchant's checkout under load: create a payment, pay it with the success card, read its status."""

    wait_time = constant(0)  # the budget paces the requests (rate limit), not the users

    def on_start(self) -> None:
        import httpx  # here, not at the top: Locust must patch the standard library before httpx loads ssl

        owner = phase()
        self.meter = _Meter(self.environment, owner)
        self.recorder = Recorder(Redactor(owner.target.secrets))
        self.client = GatewayClient(
            owner.target,
            self.recorder,
            allow_live_writes=owner.config.allow_live_writes,
            run_max_amount=owner.run_max_amount,
        )
        self.client.http.observe(request=self.meter.before, response=self.meter.after)
        owner.clients.append(self.client)
        ca = owner.target.ca_file
        self.shopper = HttpShopper(
            httpx.Client(
                verify=str(ca) if ca else True,
                timeout=owner.target.timeout_seconds,
                event_hooks={"request": [self.meter.before], "response": [self.meter.after]},
            )
        )
        self.profile = self.client.profile
        found = self.profile.card_with_outcome("COMPLETED")
        if found is None:
            raise StopUser()  # a gateway without a success card: nothing to load (the runner says so)
        self.card = Card.from_profile(found[1])
        # Setting up a user costs CPU (TLS contexts, clients); greenlets share one thread, so a user's first
        # request would be timed while the next user is set up. The first requests wait until all are.
        owner.users_started += 1
        if owner.users_started >= owner.config.users:
            owner.ready.set()
        owner.ready.wait(timeout=READY_SECONDS)

    @task
    def checkout(self) -> None:
        owner = self.meter.phase
        self.recorder.begin()  # the client's evidence log is not kept: figures only
        try:
            with self.meter.measuring("token"):
                self.client.token()
            with self.meter.measuring("create"):
                payment, return_url = self._create()
            entry = self._entry_url(payment)
            if entry:
                with self.meter.measuring("pay"):
                    self.shopper.pay(
                        entry,
                        self.card,
                        PageSpec.from_profile(self.profile.shopper),
                        challenge=ChallengeSpec.from_profile(self.profile.challenge),
                        password=(self.profile.challenge or {}).get("password"),
                        return_prefix=return_url,
                    )
            with self.meter.measuring("status"):
                state = self.client.state_of(payment)
        except BudgetSpent:
            raise StopUser() from None  # the bound, not the gateway: this checkout does not count
        except (PaycertError, ShopperError):
            owner.iterations += 1  # the gateway kept this checkout from completing
            return
        owner.iterations += 1
        if state is PaymentState.COMPLETED:
            owner.completed += 1

    def _create(self) -> tuple[Payment, str]:
        reference = f"PC-{uuid.uuid4().hex[:12].upper()}"
        config = self.meter.phase.config
        return_url = f"{config.return_base or DEFAULT_RETURN_BASE}/return/{self.client.id}/{reference}"
        direct = self.profile.shopper.get("kind") == "direct"
        payment = self.client.create_payment(
            AMOUNT,
            card=self.card.request_context() if direct else None,
            return_url=return_url,
            notification_url=config.notification_url,
            extra={"reference": reference},
        )
        return payment, return_url

    def _entry_url(self, payment: Payment) -> str | None:
        """Where the shopper goes: the create answer's redirect URL, or the profile's template."""
        entry = self.profile.shopper.get("entry", "redirect_url")
        if entry == "redirect_url":
            return payment.redirect_url
        return str(fill(entry, {**self.client.base_context(), **payment.context}))

    def on_stop(self) -> None:
        self.shopper.close()


def _on_test_start(environment: Environment, **_: Any) -> None:
    if _PHASE is None:
        return
    _PHASE.budget.start()
    if isinstance(environment.runner, LocalRunner) and environment.parsed_options is not None:
        # Standalone under Locust's command line: stop the whole run at the bound, like the library runner.
        gevent.spawn(_quit_when_spent, environment)


def _quit_when_spent(environment: Environment) -> None:
    if environment.runner is not None:
        wait_for_users(environment.runner, phase())
        environment.runner.quit()


def wait_for_users(runner: Runner, owner: Phase) -> None:
    """Return once every user has stopped itself, or when the phase's time and the grace for answers in
    flight are up. Users stop at the bound (their next request finds no place in the budget; one that ends
    with a request in flight waits for its answer first), so this is an event, not a poll of the clock."""
    bound = owner.config.max_seconds + GRACE_SECONDS
    if runner.spawning_greenlet is not None:
        runner.spawning_greenlet.join(timeout=max(0.0, bound - owner.budget.elapsed))
    runner.user_greenlets.join(timeout=max(0.0, bound - owner.budget.elapsed))


# Locust's event hooks are untyped; registered by call so the listeners keep their types.
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]
