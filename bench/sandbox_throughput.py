"""Sandbox throughput: payments/s, p50/p99 and webhooks sent vs delivered, fresh and with history stored.

The baseline is a trivial FastAPI-on-uvicorn JSON app, driven by the same load from this same process: 16
`httpx.AsyncClient`s (one connection each) on one event loop. Every server runs in a child process of its own
(the sandbox, the trivial app, and a webhook receiver that is another trivial app), so the client and the
server being measured do not share a GIL. Loopback only; every phase is bounded in count and time.

A round: baseline, gustaffo creates (each with an Idempotency-Key; no webhook), baseline, txservices debits
(each with one callback to the receiver, counted at both ends once the outbox is empty), baseline. Each sandbox
phase's ratio is to the mean of the baselines just before and after it, since on a shared machine the load
drifts. One round on a fresh sandbox; then the sandbox is filled to `--stored` payments (half of them gustaffo
payments left open, the case that made the expiry sweep grow) and a second round runs. The idle CPU of the
sandbox is sampled fresh and full, and each sandbox phase reports the sandbox's own CPU per payment (from the
start of the phase until its webhooks are out): on a shared machine that figure moves far less than the rates.

Run: `python bench/sandbox_throughput.py` (defaults: 2 000 payments per phase, 20 000 stored; a few minutes).
`--sandbox-src DIR` serves the sandbox from another source tree (say, `git archive <commit> paycert | tar -x -C
DIR`), to measure before and after with the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import itertools
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TX_API = "/txservices/transactionServices/REST/v1"
RETURN_URL = "http://127.0.0.1:9/return"
# Public test credentials of the sandbox (its README; also served at /_sandbox/credentials).
GUSTAFFO = {"client_id": "gustaffo-sandbox", "client_secret": "gst_sandbox_secret_7Qm2"}
PHASE_TIME_CAP_SECONDS = 120.0
FILL_TIME_CAP_SECONDS = 300.0
WEBHOOK_WAIT_SECONDS = 60.0
WARM_UP_REQUESTS = 100


# ------------------------------------------------------------------------------------------ child servers


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def trivial_app() -> FastAPI:
    """The baseline: one JSON create answered from memory; it also counts webhooks as a receiver."""
    app = FastAPI()
    seen: set[str] = set()
    received = itertools.count(1)
    total = {"n": 0}

    @app.post("/payments", status_code=201)
    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(
            {"paymentId": f"pay_{next(received)}", "status": "PENDING", "amount": body.get("amount")},
            status_code=201,
        )

    @app.post("/hooks/{name}")
    async def hook(request: Request) -> Response:
        body = await request.body()
        total["n"] += 1
        try:
            event = json.loads(body)
            seen.add(str(event.get("paymentId") or event.get("id")))
        except ValueError:
            seen.add(hashlib.sha256(body).hexdigest())
        return Response(status_code=200)

    @app.get("/count")
    async def count() -> dict[str, int]:
        return {"received": total["n"], "unique": len(seen)}

    return app


def _import_from(src: str) -> None:
    """Import paycert from `src`, ahead of the editable install (whose finder sits before sys.path)."""
    sys.path.insert(0, src)
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]


def serve(kind: str, data_dir: str | None, src: str | None) -> None:
    """Child process: serve until terminated; the first line on stdout is the base URL."""
    if src:
        _import_from(src)
    if kind == "sandbox":
        import paycert.sandbox
        from paycert.sandbox import SandboxConfig, SandboxServer

        assert data_dir
        server = SandboxServer(SandboxConfig(Path(data_dir)))
        print(server.base_url, flush=True)
        print(f"sandbox from {Path(paycert.sandbox.__file__).parent}", file=sys.stderr, flush=True)
        server.serve_forever()
        return
    import uvicorn

    sock = _bind()
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(trivial_app(), log_level="warning", access_log=False)).run(sockets=[sock])


class Child:
    """A server in a child process, stopped with SIGTERM (uvicorn's graceful shutdown)."""

    def __init__(self, kind: str, data_dir: Path | None = None, src: Path | None = None) -> None:
        argv = [sys.executable, __file__, "--serve", kind]
        if data_dir is not None:
            argv += ["--data-dir", str(data_dir)]
        if src is not None:
            argv += ["--sandbox-src", str(src)]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the {kind} server did not start")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the child so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------------------------------------ the load

Call = tuple[str, dict[str, Any]]  # url, keyword arguments of httpx.post


@dataclass
class Phase:
    name: str
    sent: int
    ok: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    webhooks_sent: int | None = None
    webhooks_delivered: int | None = None
    webhooks_pending: int | None = None  # still queued when the wait ran out: late, not lost
    webhooks_failed: int | None = None
    ratio: float | None = None  # to the baselines measured just before and just after
    sandbox_cpu_ms: float | None = None  # the sandbox's CPU per payment sent, webhooks included

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def webhooks_lost(self) -> int | None:
        if self.webhooks_sent is None:
            return None
        return self.webhooks_sent - (self.webhooks_delivered or 0) - (self.webhooks_pending or 0)


async def _load(
    count: int, clients: int, make: Callable[[int], Call], cap: float
) -> tuple[int, float, list[float], dict[str, int]]:
    numbers = iter(range(count))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + cap

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            if time.monotonic() > deadline:
                return
            url, kwargs = make(i)
            started = time.perf_counter()
            try:
                response = await client.post(url, **kwargs)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(limits=limits, timeout=30.0) for _ in range(clients)]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in pool))
        elapsed = time.perf_counter() - started
    finally:
        for client in pool:
            await client.aclose()
    ok = sum(n for s, n in statuses.items() if s.isdigit() and 200 <= int(s) < 300)
    return ok, elapsed, latencies, statuses


def run_phase(name: str, count: int, clients: int, make: Callable[[int], Call], cap: float) -> Phase:
    ok, seconds, latencies, statuses = asyncio.run(_load(count, clients, make, cap))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Phase(name, len(latencies), ok, seconds, cuts[49] * 1000, cuts[98] * 1000, statuses)


# ------------------------------------------------------------------------------------------ the workloads


class Workloads:
    """Requests for the sandbox's gateways, with tokens fetched once; every key and reference is unique."""

    def __init__(self, sandbox_url: str, receiver_url: str) -> None:
        self.base = sandbox_url
        self.hooks = f"{receiver_url}/hooks/txservices"
        credentials = httpx.get(f"{sandbox_url}/_sandbox/credentials").json()
        self.tx = credentials["txservices"]
        token = httpx.post(
            f"{sandbox_url}/gustaffo/oauth/token", data={"grant_type": "client_credentials", **GUSTAFFO}
        )
        self.gustaffo_auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        tx_token = httpx.post(
            f"{sandbox_url}{TX_API}/authToken",
            data={
                "authentication.partnerId": self.tx["partner_id"],
                "merchant.username": self.tx["username"],
                "authentication.sKey": self.tx["secure_key"],
            },
        )
        self.tx_auth = {"authtoken": tx_token.json()["AuthToken"]}
        self._run = itertools.count()

    def gustaffo(self, tag: str) -> Callable[[int], Call]:
        run = f"{tag}-{next(self._run)}"

        def make(i: int) -> Call:
            body = {
                "amount": 10.5,
                "currency": "EUR",
                "orderId": f"bench-{run}-{i}",
                "description": "bench",
                "returnUrl": RETURN_URL,
            }
            headers = {**self.gustaffo_auth, "Idempotency-Key": f"bench-{run}-{i}"}
            return f"{self.base}/gustaffo/api/v1/payments", {"json": body, "headers": headers}

        return make

    def txservices(self, tag: str) -> Callable[[int], Call]:
        run = f"{tag}-{next(self._run)}"
        member, key = self.tx["member_id"], self.tx["secure_key"]

        def make(i: int) -> Call:
            reference = f"bench-{run}-{i}"
            checksum = hashlib.md5(f"{member}|{key}|{reference}|10.50".encode()).hexdigest()
            form = {
                "authentication.memberId": member,
                "authentication.terminalId": self.tx["terminal_id"],
                "authentication.checksum": checksum,
                "merchantTransactionId": reference,
                "amount": "10.50",
                "currency": "EUR",
                "paymentType": "DB",
                "paymentMode": "CC",
                "paymentBrand": "VISA",
                "card.number": "4111111111111111",  # frictionless success: one callback each
                "card.expiryMonth": "12",
                "card.expiryYear": "2030",
                "card.cvv": "123",
                "merchantRedirectUrl": RETURN_URL,
                "notificationUrl": self.hooks,
            }
            headers = {**self.tx_auth, "Idempotency-Key": reference}
            return f"{self.base}{TX_API}/payments", {"data": form, "headers": headers}

        return make


# ------------------------------------------------------------------------------- reading the sandbox's books


class Books:
    """Counts read straight from the sandbox's SQLite file (read-only; WAL lets it read while serving)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def payments(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM documents WHERE kind IN ('gustaffo.payment', 'txservices.payment')"
        ).fetchone()
        return int(row[0])

    def deliveries(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
        return {str(state): int(n) for state, n in rows}


def received(receiver: Child) -> int:
    return int(httpx.get(f"{receiver.url}/count").json()["unique"])


def with_webhooks(phase: Phase, books: Books, receiver: Child, before: tuple[dict[str, int], int]) -> Phase:
    """Count this phase's webhooks at both ends, once the outbox has nothing pending (bounded wait)."""
    drained(books)
    states, got = books.deliveries(), received(receiver)
    phase.webhooks_sent = sum(states.values()) - sum(before[0].values())
    phase.webhooks_delivered = got - before[1]
    phase.webhooks_pending = states.get("pending", 0) - before[0].get("pending", 0)
    phase.webhooks_failed = states.get("failed", 0) - before[0].get("failed", 0)
    return phase


def idle_cpu(child: Child, seconds: float = 3.0) -> float:
    """Share of one core the child burns while nobody calls it."""
    start = child.cpu_seconds()
    time.sleep(seconds)
    return (child.cpu_seconds() - start) / seconds


# -------------------------------------------------------------------------------------------------- main


def report(phase: Phase) -> None:
    hooks = ""
    if phase.webhooks_sent is not None:
        hooks = (
            f"  webhooks sent {phase.webhooks_sent} delivered {phase.webhooks_delivered}"
            f" pending {phase.webhooks_pending} lost {phase.webhooks_lost}"
        )
    bad = {s: n for s, n in phase.statuses.items() if not (s.isdigit() and 200 <= int(s) < 300)}
    errors = f"  errors {bad}" if bad else ""
    cpu = f"  sandbox CPU {phase.sandbox_cpu_ms:.2f} ms each" if phase.sandbox_cpu_ms is not None else ""
    print(
        f"{phase.name:38} {phase.ok:6d} in {phase.seconds:6.2f} s  {phase.rate:7.1f}/s"
        f"  p50 {phase.p50_ms:6.1f} ms  p99 {phase.p99_ms:6.1f} ms{cpu}{hooks}{errors}",
        flush=True,
    )


def drained(books: Books) -> int:
    """Wait (bounded) until the outbox has nothing pending; how many are still pending."""
    deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
    while books.deliveries().get("pending", 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    return books.deliveries().get("pending", 0)


def main(args: argparse.Namespace) -> None:
    # The client's httpx pays a failed `import sniffio` per request where sniffio is not installed
    # (encode/httpcore#1103); recorded as absent once, as the sandbox does for its own client (egress.py).
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    n, clients = args.payments, args.clients
    results: dict[str, Any] = {"payments": n, "clients": clients, "stored_target": args.stored}
    phases: list[Phase] = []
    data_dir = Path(tempfile.mkdtemp(prefix="paycert-bench-"))
    trivial = Child("trivial")
    receiver = Child("receiver")
    sandbox = Child("sandbox", data_dir, args.sandbox_src)
    try:
        books = Books(data_dir / "sandbox.sqlite3")
        work = Workloads(sandbox.url, receiver.url)
        baselines = itertools.count(1)

        def baseline() -> Phase:
            tag = f"b{next(baselines)}"

            def make(i: int) -> Call:
                return f"{trivial.url}/payments", {"json": {"amount": 10.5, "orderId": f"{tag}-{i}"}}

            run_phase("warm-up", WARM_UP_REQUESTS, clients, make, PHASE_TIME_CAP_SECONDS)
            phase = run_phase(
                f"baseline: trivial uvicorn app ({tag})", n, clients, make, PHASE_TIME_CAP_SECONDS
            )
            report(phase)
            phases.append(phase)
            return phase

        def measured(name: str, make: Callable[[int], Call], before: Phase, webhooks: bool) -> Phase:
            """One sandbox phase between two baseline phases; its ratio is to their mean (load drifts)."""
            counts = (books.deliveries(), received(receiver))
            cpu_before = sandbox.cpu_seconds()
            phase = run_phase(name, n, clients, make, PHASE_TIME_CAP_SECONDS)
            if webhooks:
                with_webhooks(phase, books, receiver, counts)
            phase.sandbox_cpu_ms = (sandbox.cpu_seconds() - cpu_before) * 1000 / max(phase.sent, 1)
            report(phase)
            phases.append(phase)
            after = baseline()
            phase.ratio = phase.rate / ((before.rate + after.rate) / 2)
            return after

        def round_of(tag: str) -> None:
            run_phase("warm-up", WARM_UP_REQUESTS, clients, work.gustaffo("warm"), PHASE_TIME_CAP_SECONDS)
            first = baseline()
            second = measured(f"gustaffo creates, {tag}", work.gustaffo(tag), first, webhooks=False)
            measured(f"txservices debits+callback, {tag}", work.txservices(tag), second, webhooks=True)

        results["idle_cpu_fresh"] = idle_cpu(sandbox)
        round_of("fresh")
        missing = args.stored - books.payments()
        fill_started = time.monotonic()
        if missing > 0:
            cap = FILL_TIME_CAP_SECONDS / 2
            half = missing // 2
            report(run_phase("filling: gustaffo (left open)", half, clients, work.gustaffo("fill"), cap))
            report(run_phase("filling: txservices", missing - half, clients, work.txservices("fill"), cap))
        stored = books.payments()
        late = drained(books)  # the fill's callbacks go out before the idle sandbox is sampled
        print(
            f"stored payments: {stored} (filled in {time.monotonic() - fill_started:.1f} s; {late} callbacks"
            " still pending)",
            flush=True,
        )
        results["stored"] = stored
        results["idle_cpu_stored"] = idle_cpu(sandbox)
        round_of(f"{stored} stored")
        print(
            f"idle sandbox CPU: fresh {results['idle_cpu_fresh']:.1%}, stored {results['idle_cpu_stored']:.1%}"
            " of a core"
        )
        for phase in phases:
            if phase.ratio is not None:
                print(
                    f"{phase.name:38} {phase.rate:7.1f}/s  {phase.ratio:5.2f}x the adjacent baselines"
                    f"  sandbox CPU {phase.sandbox_cpu_ms or 0:.2f} ms per payment"
                )
        results["phases"] = [{**asdict(p), "rate": p.rate} for p in phases]
    finally:
        for child in (sandbox, receiver, trivial):
            child.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--payments", type=int, default=2000, help="payments per measured phase")
    parser.add_argument("--stored", type=int, default=20000, help="payments stored before the second round")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--sandbox-src", type=Path, help="serve the sandbox from this source tree")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--serve", choices=["sandbox", "trivial", "receiver"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.serve:
        serve(arguments.serve, arguments.data_dir, arguments.sandbox_src and str(arguments.sandbox_src))
    else:
        main(arguments)
