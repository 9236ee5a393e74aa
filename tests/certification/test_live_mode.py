"""Live mode cannot hurt an account (issue 11): proven from what the sandbox received, not from paycert's word.

A sandbox started here stands in for a live gateway. Its request log (`requests.log`, one line per request)
says which methods reached which paths; a recorder wrapped around the app also keeps the amounts each request
body carried. Before the run the "merchant" has its own webhook registration (gustaffo) and configured
endpoint (paylican); after it they must be exactly as they were.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder
from paycert.redaction import Redactor
from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.targets.target import target_from_data
from tests.certification.runs import REPO, paycert
from tests.certification.test_targets import sandbox_target, write

pytestmark = pytest.mark.slow

CAP = Decimal("0.50")
TOKEN_PATHS = {
    "/gustaffo/oauth/token",
    "/paylican/auth/realms/PGW/protocol/openid-connect/token",
    "/txservices/transactionServices/REST/v1/authToken",
}
MERCHANT_HOOK = "http://127.0.0.1:9/the-merchants-own-receiver"


class BodyAmounts:
    """ASGI wrapper: (method, path, every amount field of the body) for each request the sandbox gets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, list[Decimal]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def keep(message: Message) -> Message:
            return message

        async def reading() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return await keep(message)

        try:
            await self.app(scope, reading, send)
        finally:
            self.seen.append((scope["method"], scope["path"], amounts_in(b"".join(chunks))))


def amounts_in(raw: bytes) -> list[Decimal]:
    """The values of every field named like an amount, in a JSON or form body."""
    text = raw.decode("utf-8", "replace")
    try:
        body: Any = json.loads(text) if text.strip() else {}
    except ValueError:
        body = dict(parse_qsl(text))
    found: list[Decimal] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "amount" in str(key).lower() and isinstance(value, (int, float, str)):
                    with contextlib.suppress(ArithmeticError):
                        found.append(Decimal(str(value)))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return found


@pytest.fixture
def live_sandbox(tmp_path: Path) -> Iterator[tuple[SandboxServer, BodyAmounts]]:
    server = SandboxServer(SandboxConfig(tmp_path / "sandbox"))
    # The test's own view of the wire: the app uvicorn serves, wrapped before it starts.
    recorder = BodyAmounts(server._server.config.app)
    server._server.config.app = recorder
    with server:
        yield server, recorder


def live_target(tmp_path: Path, server: SandboxServer, **live: object) -> tuple[Path, dict[str, str]]:
    """Every sandbox gateway as a live gateway: no control URL (a live API has none), a cap of CAP."""
    content, env = sandbox_target(server.base_url)
    gateways = content["gateways"]
    assert isinstance(gateways, dict)
    for entry in gateways.values():
        entry.pop("control_url", None)
        entry["environment"] = "live"
    content["name"] = "live certification"
    content["live"] = {"max_amount": float(CAP), **live}
    return write(tmp_path / "live.yaml", content), env


def merchant_setup(server: SandboxServer, env: dict[str, str]) -> GatewayClient:
    """What the merchant had before paycert came: a registration (gustaffo), an endpoint (paylican)."""
    content, _ = sandbox_target(server.base_url)
    target = target_from_data(content, base_dir=REPO, environ=env)
    recorder = Recorder(Redactor([]))
    paylican = GatewayClient(target.gateways["paylican"], recorder)
    assert paylican.call("configure_webhook", {"notification_url": MERCHANT_HOOK}).ok
    paylican.close()
    gustaffo = GatewayClient(target.gateways["gustaffo"], recorder)
    assert gustaffo.call("register_webhook", {"notification_url": MERCHANT_HOOK}).ok
    return gustaffo


def registrations(gustaffo: GatewayClient) -> list[Any]:
    listed = gustaffo.call("list_webhooks")
    assert listed.ok
    body = listed.body
    items = body.get("webhooks", body.get("data", body)) if isinstance(body, dict) else body
    return (
        sorted((json.dumps(i, sort_keys=True) for i in items), key=str) if isinstance(items, list) else [body]
    )


def request_log(server: SandboxServer) -> list[dict[str, Any]]:
    lines = server.config.request_log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def paid(delivery: dict[str, Any]) -> str:
    """The payment a gustaffo webhook delivery is about (its body's paymentId, the profile's pointer)."""
    payload = delivery["payload"]
    return str(payload.get("paymentId") or payload.get("data", {}).get("paymentId"))


def gateway_writes(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (m, p) for m, p in entries if m not in ("GET", "HEAD", "OPTIONS") and not p.startswith("/_sandbox")
    ]


def test_a_live_run_without_the_flag_writes_nothing_but_token_requests(
    live_sandbox: tuple[SandboxServer, BodyAmounts], tmp_path: Path
) -> None:
    server, _ = live_sandbox
    target, env = live_target(tmp_path, server)
    gustaffo = merchant_setup(server, env)
    before = registrations(gustaffo)
    server.config.request_log.write_text("", encoding="utf-8")  # only what paycert sends from here

    run = paycert(
        "run", "--target", str(target), "--contract-examples", "2", report_dir=tmp_path / "r", env=env
    )

    assert run.code == 1, run.stderr[-2000:]  # NO-GO: what needs writes is not evaluated, nothing broke
    assert run.readiness["harness_errors"] == []
    assert registrations(gustaffo) == before
    server.stop()  # the request log reaches its file
    log = request_log(server)
    writes = gateway_writes([(e["method"], e["path"]) for e in log])
    assert writes, "paycert asked for no token at all: the run did not reach the gateways"
    assert {p for _, p in writes} <= TOKEN_PATHS, sorted(
        set(writes) - {(m, p) for m, p in writes if p in TOKEN_PATHS}
    )
    not_evaluated = run.with_status("not_evaluated")
    assert {"PAY-SUCCESS", "OPS-REFUND"} <= not_evaluated
    reasons = json.dumps(run.readiness["criteria"])
    assert "--allow-live-writes" in reasons


def test_a_live_run_with_the_flag_stays_under_the_cap_and_undoes_or_names_every_payment(
    live_sandbox: tuple[SandboxServer, BodyAmounts], tmp_path: Path
) -> None:
    server, recorder = live_sandbox
    target, env = live_target(tmp_path, server)
    gustaffo = merchant_setup(server, env)
    before = registrations(gustaffo)
    recorder.seen.clear()

    run = paycert(
        "run",
        "--target",
        str(target),
        "-s",
        "scenarios",
        "-s",
        "contract",
        "--contract-examples",
        "2",
        "--allow-live-writes",
        report_dir=tmp_path / "r",
        env=env,
    )

    over = [(m, p, a) for m, p, a in recorder.seen if any(x > CAP for x in a)]
    assert over == [], over[:5]
    # Nothing the merchant had was deleted or changed: no write to its registration or its endpoint.
    assert registrations(gustaffo) == before
    touched = [(m, p) for m, p, _ in recorder.seen if m in ("PUT", "PATCH", "DELETE")]
    assert not [t for t in touched if t[1].endswith("/webhook-endpoint")], touched
    # OPS-REFUND and OPS-CAPTURE probes are derived from the capped amounts: a correct sandbox passes.
    statuses = run.statuses()
    assert statuses["OPS-REFUND"] == "pass", json.dumps(run.readiness["criteria"])[:3000]
    assert statuses["OPS-CAPTURE"] == "pass"
    # Paylican offers no refund: each of its paid payments is named with its amount; exit 2.
    errors = run.readiness["harness_errors"]
    assert run.code == 2, run.stderr[-2000:]
    named = [e for e in errors if re.search(r"live payment \S+ \(\d+\.\d+ EUR\) was not undone", e)]
    assert named, errors
    amounts = [Decimal(m.group(1)) for e in named if (m := re.search(r"\((\d+\.\d+) EUR\)", e))]
    assert len(amounts) == len(named)
    assert max(amounts) <= CAP, named
    # Everything gustaffo completed was refunded: its outbox holds a refund for every completed payment.
    outbox = httpx.get(f"{server.base_url}/_sandbox/outbox", params={"gateway": "gustaffo"}).json()
    completed = {paid(d) for d in outbox if d["event_type"] == "payment.completed"}
    refunded = {paid(d) for d in outbox if d["event_type"] == "payment.refunded"}
    assert completed, "no gustaffo payment completed: nothing was shown"
    assert completed <= refunded, sorted(completed - refunded)
    assert not [e for e in errors if e.startswith("gustaffo: live payment")], errors


def test_the_plan_lists_the_writes_and_sends_nothing(
    live_sandbox: tuple[SandboxServer, BodyAmounts], tmp_path: Path
) -> None:
    server, recorder = live_sandbox
    target, env = live_target(tmp_path, server)

    plan = paycert(
        "run", "--target", str(target), "--plan", "--allow-live-writes", report_dir=tmp_path / "r", env=env
    )

    assert plan.code == 0, plan.stderr[-2000:]
    for words in (
        "create_payment",
        "register_webhook",
        "delete_webhook at the end",
        "refund",
        "max 0.5",
        "NOT undone",
    ):
        assert words in plan.stdout, (words, plan.stdout[-3000:])
    assert recorder.seen == []
    server.stop()
    assert request_log(server) == []
