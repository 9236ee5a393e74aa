"""The fixtures suites use: a gateway's client, a checkout, its webhooks. Everything else stays hidden."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from paycert.core.errors import PaycertError
from paycert.core.pointers import resolve
from paycert.gateways.client import GatewayClient
from paycert.load.config import LoadConfig
from paycert.load.figures import LoadFigures
from paycert.load.phase import run_load_phase
from paycert.plugin.checkout import Checkout
from paycert.plugin.clock import GatewayTime
from paycert.plugin.inbox import WebhookInbox
from paycert.plugin.live_webhooks import prepare_live_webhooks, require_webhooks
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState, run_state
from paycert.targets.profile import Profile
from paycert.targets.settings import KpiSettings
from paycert.webhooks.sink import WebhookSink


@pytest.fixture(scope="session")
def paycert_run(request: pytest.FixtureRequest) -> RunState:
    """The run: target, recorder, results."""
    return run_state(request.config)


@pytest.fixture
def gateway(paycert_run: RunState, gateway_id: str, request: pytest.FixtureRequest) -> GatewayClient:
    """The client of the gateway this test runs against (tests are parametrized over the target's)."""
    if gateway_id in paycert_run.unreachable:
        pytest.skip(f"{NOT_EVALUATED_PREFIX}{paycert_run.unreachable[gateway_id]}")
    paycert_run.target.gateways[gateway_id].require_profile()
    client = paycert_run.client(gateway_id)
    _prepare_webhooks(paycert_run, client, suite=request.node.path.parent.name)
    return client


@pytest.fixture
def gateway_client(gateway: GatewayClient) -> GatewayClient:
    """The same client as `gateway`, under the name a team's own suite reads best (both stay)."""
    return gateway


@pytest.fixture
def gateway_time(gateway: GatewayClient) -> Iterator[GatewayTime]:
    """Let time pass for the gateway: its sandbox clock moves at once, a real gateway is waited for."""
    ca = gateway.target.ca_file
    with GatewayTime(gateway.target.control_url, verify=str(ca) if ca else True) as clock:
        yield clock


@pytest.fixture
def profile(gateway: GatewayClient) -> Profile:
    """The profile of the gateway this test runs against (its cards, statuses, operations)."""
    return gateway.profile


@pytest.fixture
def sink(paycert_run: RunState) -> WebhookSink:
    """paycert's local webhook receiver (the same one for the whole run)."""
    return paycert_run.webhook_sink()


@pytest.fixture
def webhook_sink(sink: WebhookSink) -> WebhookSink:
    """The same receiver as `sink`, under the name a team's own suite reads best (both stay)."""
    return sink


@pytest.fixture
def checkout(paycert_run: RunState, gateway: GatewayClient, sink: WebhookSink) -> Checkout:
    """Create payments and play the shopper on this gateway.

    Against a live gateway this moves money: such tests are not evaluated unless the run allows live writes.
    """
    if gateway.target.is_live and not paycert_run.allow_live_writes:
        pytest.skip(
            f"{NOT_EVALUATED_PREFIX}{gateway.id} is live and this scenario moves money; "
            "run with --allow-live-writes (amounts capped, everything refunded or voided)"
        )
    return Checkout(
        gateway,
        paycert_run.shopper_driver(),
        sink,
        gateway.context_extra["webhook_url"],
        run_dir=paycert_run.run_dir,
        link_browser=paycert_run.link_browser,
    )


@pytest.fixture
def kpi(paycert_run: RunState) -> KpiSettings:
    """The target's KPI settings: the load phase's bounds and the thresholds it is judged by."""
    return paycert_run.target.kpi


@pytest.fixture(scope="module")
def load_phases() -> dict[str, LoadFigures | PaycertError]:
    """The load phases a suite module ran, by gateway: its KPI tests share one phase per gateway."""
    return {}


@pytest.fixture
def load_phase(
    paycert_run: RunState,
    gateway: GatewayClient,
    sink: WebhookSink,
    kpi: KpiSettings,
    load_phases: dict[str, LoadFigures | PaycertError],
) -> LoadFigures:
    """The bounded load phase against this gateway (paycert.load), run once per module; its summary goes into
    each test's evidence. Against a live gateway it moves money: not evaluated unless writes are allowed."""
    if gateway.target.is_live and not paycert_run.allow_live_writes:
        pytest.skip(
            f"{NOT_EVALUATED_PREFIX}{gateway.id} is live and the load phase moves money; "
            "run with --allow-live-writes (amounts capped, everything refunded or voided)"
        )
    if gateway.id not in load_phases:
        load_phases[gateway.id] = _run_load(paycert_run, gateway, sink, kpi)
    figures = load_phases[gateway.id]
    if isinstance(figures, PaycertError):
        raise figures
    paycert_run.recorder.log.add(figures.to_evidence(kpi))
    return figures


def _run_load(
    run: RunState, gateway: GatewayClient, sink: WebhookSink, kpi: KpiSettings
) -> LoadFigures | PaycertError:
    if run.target.path is None:
        return PaycertError("the load phase runs from a target file, and this target has none")
    rate = (gateway.profile.raw.get("limits") or {}).get("rate") or {}
    config = LoadConfig(
        target_file=str(run.target.path),
        gateway=gateway.id,
        users=kpi.users,
        max_requests=kpi.max_requests,
        max_seconds=kpi.max_seconds,
        rate_requests=int(rate["requests"]) if "requests" in rate else None,
        rate_seconds=float(rate["seconds"]) if "seconds" in rate else None,
        rate_operation=str(rate["operation"]) if "operation" in rate else None,
        allow_live_writes=run.allow_live_writes,
        notification_url=str(gateway.context_extra.get("webhook_url") or "") or None,
        return_base=sink.url,
    )
    try:
        with run.waiting(f"the KPI load phase on {gateway.id} ({kpi.max_seconds:g} s at most)"):
            figures = run_load_phase(config)
    except PaycertError as exc:
        return PaycertError(run.redactor.text(str(exc)))
    for problem in figures.problems:  # a live phase says what it could not undo
        run.harness_error(problem)
    return figures


@pytest.fixture
def webhooks(gateway: GatewayClient, sink: WebhookSink) -> WebhookInbox:
    """Everything this gateway sent to the sink during the run."""
    require_webhooks(gateway)
    return WebhookInbox(gateway, sink)


def _prepare_webhooks(run: RunState, client: GatewayClient, *, suite: str) -> None:
    """Point the gateway's webhooks at the sink the way its profile says, and keep them pointed there.

    Done on the first test that needs the gateway, then re-checked once at the start of every later suite:
    a suite that ran in between (the generated contract tests list and delete registrations) must not leave
    the next one waiting for webhooks that no longer come, so suite order never changes a verdict.
    """
    ready = run.webhooks_ready.get(client.id)
    if ready is not None and (ready == suite or _still_pointed_at_sink(client)):
        run.webhooks_ready[client.id] = suite
        return
    url = f"{run.webhook_base()}/{client.id}"
    client.context_extra["webhook_url"] = url
    delivery = client.profile.webhooks["delivery"]
    operation = {"registered": "register_webhook", "configured": "configure_webhook"}.get(delivery)
    if client.target.is_live:
        # Set up once, never re-pointed: on a live account only paycert's own run writes, and only once.
        if ready is None:
            prepare_live_webhooks(run, client, url, operation)
        run.webhooks_ready[client.id] = suite
        return
    if operation and client.offers(operation):
        label = f"{operation} for paycert's sink" + (" (again: it was gone)" if ready is not None else "")
        result = client.call(operation, {"webhook_url": url, "notification_url": url}, label=label)
        if not result.ok:
            run.harness_error(
                f"{client.id}: {operation} answered HTTP {result.status}; webhooks cannot be certified"
            )
        elif isinstance(result.body, dict):
            client.context_extra["registration"] = result.body
            for key, value in result.body.items():
                if isinstance(value, str) and "secret" in key.lower():
                    run.redactor.add_secret(value)
            secret = result.get("secret")
            if secret:
                run.redactor.add_secret(str(secret))
    run.webhooks_ready[client.id] = suite


def _still_pointed_at_sink(client: GatewayClient) -> bool:
    """Whether paycert's registration is still there, by the profile's `list_webhooks` where it has one.

    A configured endpoint is set again (setting it is idempotent); a registration without a way to list
    them is taken as still there, since registering again would double every delivery.
    """
    delivery = client.profile.webhooks["delivery"]
    if delivery == "configured":
        return False
    if delivery != "registered" or not client.offers("list_webhooks"):
        return True
    registration = client.context_extra.get("registration") or {}
    webhook_id = client.profile.operations["register_webhook"].get("result", {}).get("webhook_id")
    ours = resolve(registration, str(webhook_id), None) if webhook_id else None
    if not ours:
        return True
    listed = client.call("list_webhooks", label="paycert's registration still there?")
    return listed.ok and str(ours) in json.dumps(listed.body)
