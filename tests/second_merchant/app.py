"""A second merchant, written from specs/merchant/openapi.yaml and the gateways' own specs, not from paycert's
reference merchant: FastAPI, orders in SQLite, paying through a paycert sandbox's gustaffo and txservices.

It can be built four correct ways paycert must not flag (`Design`): it confirms every signed webhook by reading
the status back (seed 000 §5); it registers its own webhook receiver at gustaffo (seed 000 step 6); its status
job runs every 60 s of the test clock (seed 004 §2); it acknowledges at once and processes from a queue 0.5 s
later. And it can be seeded with seven real attacks that work on it (`Attacks`), one flag each.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import queue
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse

PENDING, PAID, FAILED, CANCELLED = "PENDING", "PAID", "FAILED", "CANCELLED"
FINAL = {PAID, FAILED, CANCELLED}
EXPIRY_SECONDS = 30 * 60  # seed 004: "a payment expiration time (e.g., 30 minutes)"
CHECK_PENDING_AFTER = 15 * 60  # seed 004 §2: pending over 15 minutes is checked with the gateway
GUSTAFFO_SECRET = "second-merchant-gustaffo-secret-9d1e"  # what it verifies with unless it registers its own
GUSTAFFO_STATUS = {"COMPLETED": PAID, "FAILED": FAILED, "CANCELLED": CANCELLED, "EXPIRED": CANCELLED}
TX_SHORT = {"Y": PAID, "N": FAILED, "C": CANCELLED}
TX_LONG = {
    "capturesuccess": PAID,
    "settled": PAID,
    "authfailed": FAILED,
    "cancelled": CANCELLED,
    "expired": CANCELLED,
}
TX_API = "/txservices/transactionServices/REST/v1"


@dataclass(frozen=True)
class Design:
    readback: bool = False  # read the status API after a valid signature, and act on that
    own_receiver: bool = False  # register its receiver at gustaffo and verify with that registration's secret
    poll_60s: bool = False  # the status job runs once per 60 s of the test clock (else every tick)
    queue: bool = False  # verify, answer 200, process 0.5 s later from a queue


@dataclass(frozen=True)
class Attacks:
    empty_signature: bool = False  # 1: an empty or shortened X-Signature passes (a prefix comparison)
    webhook_query: bool = False  # 2: ?status= on the webhook URL overrides the body
    unsigned_status: bool = False  # 3: txservices' unsigned long `status` is read, not transactionStatus
    whole_units: bool = False  # 4: amounts are compared in whole units
    unknown_payment: bool = False  # 5: a completion for a payment it never created makes a paid order
    expiry_without_readback: bool = False  # 6: expiry cancels by age alone
    return_payment_id: bool = False  # 7: the return URL's paymentId is the payment whose status is read

    @classmethod
    def named(cls, name: str) -> Attacks:
        assert name in {f.name for f in fields(cls)}, name
        return cls(**{name: True})


@dataclass
class Reading:
    payment_id: str
    status: str | None
    amount: Decimal | None
    currency: str | None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


class Shop:
    def __init__(self, sandbox: str, db: Path, design: Design, attacks: Attacks) -> None:
        self.sandbox = sandbox.rstrip("/")
        self.design, self.attacks = design, attacks
        self.base = ""  # set by the server once its port is known
        self._db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, gateway TEXT, payment_id TEXT, amount TEXT,"
            " currency TEXT, status TEXT, fulfilments INTEGER, payment_url TEXT, return_url TEXT,"
            " created REAL, polled REAL, history TEXT)"
        )
        self.http = httpx.Client(timeout=10)
        self.credentials: dict[str, dict[str, str]] = self.http.get(
            f"{self.sandbox}/_sandbox/credentials"
        ).json()
        self.gustaffo_secret = GUSTAFFO_SECRET
        self._queue: queue.Queue[tuple[str, dict[str, Any], dict[str, str]]] = queue.Queue()
        self._last_job = 0.0
        self._stop = threading.Event()

    # -- the test clock ---------------------------------------------------------------------------------

    def now(self) -> float:
        return float(self.http.get(f"{self.sandbox}/_sandbox/clock").json()["now"])

    # -- orders in SQLite -------------------------------------------------------------------------------

    def _row(self, where: str, *args: Any) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(f"SELECT * FROM orders WHERE {where}", args)
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def view(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "orderId": row["id"],
            "gateway": row["gateway"],
            "status": row["status"],
            "amount": row["amount"],
            "currency": row["currency"],
            "paymentId": row["payment_id"],
            "paymentUrl": row["payment_url"],
            "returnUrl": row["return_url"],
            "fulfilments": row["fulfilments"],
            "createdAt": row["created"],
            "expiresAt": row["created"] + EXPIRY_SECONDS,
            "polledAt": row["polled"],
            "history": json.loads(row["history"]),
        }

    def order(self, order_id: str) -> dict[str, Any] | None:
        rows = self._row("id = ?", order_id)
        return rows[0] if rows else None

    def _note(self, order_id: str, source: str, status: str | None, note: str) -> None:
        with self._lock:
            (history,) = self._db.execute("SELECT history FROM orders WHERE id = ?", (order_id,)).fetchone()
            entries = [
                *json.loads(history),
                {"at": self.now(), "source": source, "status": status, "note": note},
            ]
            self._db.execute("UPDATE orders SET history = ? WHERE id = ?", (json.dumps(entries), order_id))

    def _move(self, order_id: str, status: str, source: str) -> None:
        """PENDING to a final state, once: the guarded UPDATE is the fulfil-once rule."""
        with self._lock:
            moved = self._db.execute(
                "UPDATE orders SET status = ?, fulfilments = fulfilments + ? WHERE id = ? AND status = 'PENDING'",
                (status, 1 if status == PAID else 0, order_id),
            ).rowcount
        self._note(order_id, source, status, "moved" if moved else "ignored: already final")

    def open(self, gateway: str, amount: Decimal, currency: str, card: dict[str, str]) -> dict[str, Any]:
        order_id = "so_" + uuid.uuid4().hex[:16]
        return_url = f"{self.base}/return/{gateway}?orderId={order_id}"
        created = self.now()
        with self._lock:
            self._db.execute(
                "INSERT INTO orders VALUES (?, ?, NULL, ?, ?, 'PENDING', 0, NULL, ?, ?, NULL, ?)",
                (
                    order_id,
                    gateway,
                    f"{amount:.2f}",
                    currency,
                    return_url,
                    created,
                    json.dumps([{"at": created, "source": "checkout", "status": PENDING, "note": "opened"}]),
                ),
            )
        payment_id, url = (self._gustaffo_create if gateway == "gustaffo" else self._tx_create)(
            order_id, amount, currency, return_url, card
        )
        with self._lock:
            self._db.execute(
                "UPDATE orders SET payment_id = ?, payment_url = ? WHERE id = ?", (payment_id, url, order_id)
            )
        row = self.order(order_id)
        assert row is not None
        return row

    # -- the gateways, from their specs -----------------------------------------------------------------

    def _gustaffo_token(self) -> str:
        c = self.credentials["gustaffo"]
        answer = self.http.post(
            f"{self.sandbox}/gustaffo/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": c["client_id"],
                "client_secret": c["client_secret"],
            },
        )
        return str(answer.json()["access_token"])

    def _gustaffo_create(
        self, order_id: str, amount: Decimal, currency: str, return_url: str, card: dict[str, str]
    ) -> tuple[str, str]:
        answer = self.http.post(
            f"{self.sandbox}/gustaffo/api/v1/payments",
            json={
                "amount": float(amount),
                "currency": currency,
                "orderId": order_id,
                "returnUrl": return_url,
                "description": f"second merchant {order_id}",
            },
            headers={"Authorization": f"Bearer {self._gustaffo_token()}"},
        )
        answer.raise_for_status()
        return str(answer.json()["paymentId"]), str(answer.json()["redirectUrl"])

    def register_receiver(self) -> None:
        """Seed 000 step 6: the merchant registers its webhook URL and keeps the secret it is given."""
        answer = self.http.post(
            f"{self.sandbox}/gustaffo/api/v1/webhooks",
            json={
                "url": f"{self.base}/webhooks/gustaffo",
                "events": ["payment.completed", "payment.failed", "payment.cancelled", "payment.expired"],
            },
            headers={"Authorization": f"Bearer {self._gustaffo_token()}"},
        )
        answer.raise_for_status()
        self.gustaffo_secret = str(answer.json()["secret"])

    def _tx_md5(self, *parts: str) -> str:
        return hashlib.md5("|".join(parts).encode()).hexdigest()

    def _tx_token(self) -> str:
        c = self.credentials["txservices"]
        answer = self.http.post(
            f"{self.sandbox}{TX_API}/authToken",
            data={
                "authentication.partnerId": c["partner_id"],
                "merchant.username": c["username"],
                "authentication.sKey": c["secure_key"],
            },
            headers={"Accept": "application/json"},
        )
        return str(answer.json()["AuthToken"])

    def _tx_create(
        self, order_id: str, amount: Decimal, currency: str, return_url: str, card: dict[str, str]
    ) -> tuple[str, str]:
        c = self.credentials["txservices"]
        total = f"{amount:.2f}"
        answer = self.http.post(
            f"{self.sandbox}{TX_API}/payments",
            data={
                "authentication.memberId": c["member_id"],
                "authentication.terminalId": c["terminal_id"],
                "authentication.checksum": self._tx_md5(c["member_id"], c["secure_key"], order_id, total),
                "merchantTransactionId": order_id,
                "amount": total,
                "currency": currency,
                "orderDescriptor": f"second merchant {order_id}",
                "paymentType": "DB",
                "paymentMode": "CC",
                "paymentBrand": card.get("brand", "VISA"),
                "card.number": card.get("number", ""),
                "card.expiryMonth": card.get("expiryMonth", ""),
                "card.expiryYear": card.get("expiryYear", ""),
                "card.cvv": card.get("cvv", ""),
                "merchantRedirectUrl": return_url,
                "notificationUrl": f"{self.base}/webhooks/txservices",
            },
            headers={"authtoken": self._tx_token(), "Accept": "application/json"},
        )
        answer.raise_for_status()
        body = answer.json()
        return str(body["paymentId"]), str((body.get("redirect") or {}).get("url") or "")

    def read_status(self, gateway: str, payment_id: str) -> Reading:
        if gateway == "gustaffo":
            answer = self.http.get(
                f"{self.sandbox}/gustaffo/api/v1/payments/{payment_id}",
                headers={"Authorization": f"Bearer {self._gustaffo_token()}"},
            )
            data = answer.json() if answer.status_code == 200 else {}
            status = GUSTAFFO_STATUS.get(str(data.get("status")))
            return Reading(payment_id, status, _decimal(data.get("amount")), data.get("currency"))
        c = self.credentials["txservices"]
        answer = self.http.get(
            f"{self.sandbox}{TX_API}/payments/{payment_id}",
            params={
                "authentication.memberId": c["member_id"],
                "paymentId": payment_id,
                "authentication.checksum": self._tx_md5(c["member_id"], c["secure_key"], payment_id),
            },
            headers={"authtoken": self._tx_token(), "Accept": "application/json"},
        )
        data = answer.json() if answer.status_code == 200 else {}
        return Reading(
            payment_id,
            TX_LONG.get(str(data.get("status"))),
            _decimal(data.get("amount")),
            data.get("currency"),
        )

    # -- webhooks ---------------------------------------------------------------------------------------

    def verified(self, gateway: str, raw: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        if gateway == "gustaffo":
            given = headers.get("x-signature", "").strip().lower()
            expected = hashlib.sha256(self.gustaffo_secret.encode() + raw).hexdigest()
            if self.attacks.empty_signature:
                return body if expected.startswith(given) else None
            return body if given and hmac.compare_digest(expected, given) else None
        key = self.credentials["txservices"]["secure_key"]
        try:
            parts = [
                str(body[f]) for f in ("paymentId", "merchantTransactionId", "amount", "transactionStatus")
            ]
        except KeyError:
            return None
        checksum = str(body.get("checksum") or "")
        return body if checksum and hmac.compare_digest(self._tx_md5(*parts, key), checksum.lower()) else None

    def reading(self, gateway: str, body: dict[str, Any], query: dict[str, str]) -> Reading | None:
        if gateway == "gustaffo":
            found = body.get("data")
            data: dict[str, Any] = found if isinstance(found, dict) else {}
            status = GUSTAFFO_STATUS.get(str(data.get("status")))
            if self.attacks.webhook_query and "status" in query:
                status = GUSTAFFO_STATUS.get(query["status"], status)
            payment, amount, currency = data.get("paymentId"), data.get("amount"), data.get("currency")
        else:
            status = (
                TX_LONG.get(str(body.get("status")))
                if self.attacks.unsigned_status
                else TX_SHORT.get(str(body.get("transactionStatus")))
            )
            payment, amount, currency = body.get("paymentId"), body.get("amount"), body.get("currency")
        if payment is None:
            return None
        return Reading(str(payment), status, _decimal(amount), currency)

    def process(self, gateway: str, body: dict[str, Any], query: dict[str, str]) -> None:
        notice = self.reading(gateway, body, query)
        if notice is None:
            return
        rows = self._row("gateway = ? AND payment_id = ?", gateway, notice.payment_id)
        if not rows:
            if self.attacks.unknown_payment and notice.status == PAID:
                row = self.open_adopted(gateway, notice)
                rows = [row]
            else:
                return  # not a payment of this shop: taken, and nothing to do
        if self.design.readback:
            notice = self.read_status(gateway, notice.payment_id)
        self.settle(rows[0], notice, "webhook")

    def open_adopted(self, gateway: str, notice: Reading) -> dict[str, Any]:
        order_id = "so_" + uuid.uuid4().hex[:16]
        now = self.now()
        with self._lock:
            self._db.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, 'PENDING', 0, NULL, NULL, ?, NULL, '[]')",
                (
                    order_id,
                    gateway,
                    notice.payment_id,
                    f"{notice.amount or 0:.2f}",
                    notice.currency or "EUR",
                    now,
                ),
            )
        row = self.order(order_id)
        assert row is not None
        return row

    def settle(self, row: dict[str, Any], notice: Reading, source: str) -> None:
        if notice.status is None:
            return
        if notice.status == PAID and not self.same_money(row, notice):
            self._note(row["id"], source, None, f"held: paid {notice.amount} {notice.currency}")
            return
        self._move(row["id"], notice.status, source)

    def same_money(self, row: dict[str, Any], notice: Reading) -> bool:
        if notice.amount is None:
            return False
        if notice.currency is not None and notice.currency.upper() != str(row["currency"]).upper():
            return False
        if self.attacks.whole_units:
            return int(notice.amount) == int(Decimal(row["amount"]))
        return notice.amount == Decimal(row["amount"])

    def take(self, gateway: str, raw: bytes, headers: dict[str, str], query: dict[str, str]) -> bool:
        body = self.verified(gateway, raw, headers)
        if body is None:
            return False
        if self.design.queue:
            self._queue.put((gateway, body, query))
        else:
            self.process(gateway, body, query)
        return True

    # -- background work: the queue and the status job (on the test clock) ----------------------------

    def worker(self) -> None:
        while not self._stop.is_set():
            try:
                gateway, body, query = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            time.sleep(0.5)
            with contextlib.suppress(Exception):
                self.process(gateway, body, query)

    def ticker(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(Exception):
                now = self.now()
                if self.design.poll_60s and now - self._last_job < 60:
                    continue
                self._last_job = now
                self.job(now)

    def job(self, now: float) -> None:
        for row in self._row("status = 'PENDING' AND payment_id IS NOT NULL"):
            expired = now >= row["created"] + EXPIRY_SECONDS
            if now - row["created"] < CHECK_PENDING_AFTER and not expired:
                continue
            reading = None
            if not (expired and self.attacks.expiry_without_readback):
                reading = self.read_status(row["gateway"], row["payment_id"])
                with self._lock:
                    self._db.execute("UPDATE orders SET polled = ? WHERE id = ?", (now, row["id"]))
            if reading is not None and reading.status is not None:
                self.settle(row, reading, "status job")
            current = self.order(row["id"])
            if expired and current is not None and current["status"] == PENDING:
                self._move(row["id"], CANCELLED, "expiry")

    def returned(self, gateway: str, row: dict[str, Any], query: dict[str, str]) -> None:
        payment_id = row["payment_id"]
        if self.attacks.return_payment_id and query.get("paymentId"):
            payment_id = query["paymentId"]
        self.settle(row, self.read_status(gateway, payment_id), "return URL")


def create_app(shop: Shop) -> FastAPI:
    app = FastAPI(title="second merchant")

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"error": code, "message": message}, status_code=status)

    @app.post("/orders")
    async def create_order(request: Request) -> JSONResponse:
        body = await request.json()
        gateway = body.get("gateway")
        amount = _decimal(body.get("amount"))
        if gateway not in ("gustaffo", "txservices") or amount is None or amount <= 0:
            return error(400, "invalid_request", "gateway must be gustaffo or txservices, amount positive")
        try:
            row = await asyncio.to_thread(
                shop.open, gateway, amount, str(body.get("currency", "EUR")).upper(), body.get("card") or {}
            )
        except httpx.HTTPError as exc:
            return error(502, "gateway_refused", str(exc))
        return JSONResponse(shop.view(row), status_code=201)

    @app.get("/orders")
    async def find_orders(gateway: str = "", paymentId: str = "") -> JSONResponse:
        if not gateway or not paymentId:
            return error(400, "invalid_request", "gateway and paymentId are required")
        rows = await asyncio.to_thread(shop._row, "gateway = ? AND payment_id = ?", gateway, paymentId)
        return JSONResponse({"orders": [shop.view(r) for r in rows]})

    @app.get("/orders/{order_id}")
    async def get_order(order_id: str) -> JSONResponse:
        row = await asyncio.to_thread(shop.order, order_id)
        return JSONResponse(shop.view(row)) if row else error(404, "not_found", "no such order")

    @app.post("/webhooks/{gateway}")
    async def webhook(gateway: str, request: Request) -> JSONResponse:
        raw = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        taken = await asyncio.to_thread(shop.take, gateway, raw, headers, dict(request.query_params))
        if not taken:
            return error(400, "invalid_callback", "invalid callback")
        return JSONResponse({"received": True})

    @app.get("/return/{gateway}", response_class=HTMLResponse)
    async def back(gateway: str, request: Request, orderId: str = "") -> HTMLResponse:
        row = await asyncio.to_thread(shop.order, orderId)
        if row is None:
            return HTMLResponse("<p>Unknown order.</p>", 404)
        await asyncio.to_thread(shop.returned, gateway, row, dict(request.query_params))
        row = await asyncio.to_thread(shop.order, orderId)
        assert row is not None
        return HTMLResponse(f'<p id="order-status" data-status="{row["status"]}">{row["status"]}</p>')

    @app.websocket("/ws/orders/{order_id}")
    async def push(websocket: WebSocket, order_id: str) -> None:
        await websocket.accept()
        last = None
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                row = await asyncio.to_thread(shop.order, order_id)
                if row is None:
                    await websocket.close(code=4404)
                    return
                if row["status"] != last:
                    last = row["status"]
                    await websocket.send_json(shop.view(row))
                if last in FINAL:
                    await websocket.close()
                    return
                await asyncio.sleep(0.1)

    return app


class SecondMerchant:
    """The second merchant on uvicorn in a thread, on 127.0.0.1 and a free port."""

    def __init__(
        self, sandbox: str, work: Path, design: Design = Design(), attacks: Attacks = Attacks()
    ) -> None:
        self.shop = Shop(sandbox, work / "orders.sqlite", design, attacks)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.shop.base = self.base_url
        config = uvicorn.Config(create_app(self.shop), log_level="error", access_log=False)
        self._server = uvicorn.Server(config)
        self._threads = [
            threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True),
            threading.Thread(target=self.shop.worker, daemon=True),
            threading.Thread(target=self.shop.ticker, daemon=True),
        ]

    def start(self) -> SecondMerchant:
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.shop.design.own_receiver:
            self.shop.register_receiver()
        return self

    def stop(self) -> None:
        self.shop._stop.set()
        self._server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=5)
