"""What the sandbox reads per event or per poll does not include its whole history.

- gustaffo reads every active webhook registration for each payment event: deleted ones are kept apart (their
  secret still signs the retries of deliveries queued before the delete), also those of an older data folder.
- `/_sandbox/outbox?state=pending` answers only the deliveries still to be sent (paycert polls it while it
  waits for an outbox to settle).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from paycert.sandbox.store import Store
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_gustaffo import Gustaffo, paid_payment
from tests.sandbox.test_txservices_support import VISA, Tx

ACTIVE = "gustaffo.webhook"
DELETED = "gustaffo.webhook.deleted"


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as receiver:
        yield receiver


def kinds(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{data_dir / 'sandbox.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT kind, count(*) FROM documents WHERE kind IN (?, ?) GROUP BY kind", (ACTIVE, DELETED)
        ).fetchall()
    return {str(kind): int(n) for kind, n in rows}


def outbox(base_url: str, **params: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{base_url}/_sandbox/outbox", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    deliveries: list[dict[str, Any]] = answer.json()
    return deliveries


def settled(base_url: str, until: int) -> list[dict[str, Any]]:
    """The gustaffo outbox once `until` attempts were made in all (polled, bounded)."""
    deadline = time.monotonic() + 5
    while True:
        deliveries = outbox(base_url, gateway="gustaffo")
        if sum(d["attempts"] for d in deliveries) >= until or time.monotonic() > deadline:
            return deliveries
        time.sleep(0.05)


def test_a_deleted_registration_leaves_the_active_ones_and_its_queued_retry_is_still_signed(
    start_sandbox: StartSandbox, sink: WebhookSink
) -> None:
    server = start_sandbox()
    gustaffo = Gustaffo(server.base_url)
    try:
        registration = gustaffo.register(sink.url)
        sink.fail_next(1, status=500)
        paid_payment(gustaffo)
        sink.wait_for(1)
        assert [d["attempts"] for d in settled(server.base_url, until=1)] == [1]
        url = f"/api/v1/webhooks/{registration['webhookId']}"
        assert gustaffo.http.delete(url, headers=gustaffo.auth).status_code == 204
        assert kinds(server.config.data_dir) == {DELETED: 1}
        assert gustaffo.http.get("/api/v1/webhooks", headers=gustaffo.auth).json() == {"webhooks": []}
        assert gustaffo.http.delete(url, headers=gustaffo.auth).status_code == 404

        gustaffo.advance_clock(1)  # the retry of the delivery queued before the delete
        _, retry = sink.wait_for(2)
        expected = hashlib.sha256(registration["secret"].encode() + retry.body).hexdigest()
        assert retry.headers["x-signature"] == expected

        paid_payment(gustaffo)  # after the delete: nothing queued
        assert len(outbox(server.base_url, gateway="gustaffo")) == 1
    finally:
        gustaffo.http.close()


def test_deleted_registrations_of_an_older_data_folder_are_moved_at_start(
    start_sandbox: StartSandbox, sink: WebhookSink, tmp_path: Path
) -> None:
    data_dir = tmp_path / "older"
    store = Store(data_dir / "sandbox.sqlite3")
    old = {"url": sink.url, "events": ["payment.completed"], "createdAt": "2026-01-01T00:00:00Z"}
    store.put(ACTIVE, "wh_deleted", {**old, "webhookId": "wh_deleted", "secret": "whsec_a", "deleted": True})
    store.put(ACTIVE, "wh_active", {**old, "webhookId": "wh_active", "secret": "whsec_b", "deleted": False})
    store.close()

    server = start_sandbox(data_dir=data_dir)
    gustaffo = Gustaffo(server.base_url)
    try:
        assert kinds(data_dir) == {ACTIVE: 1, DELETED: 1}
        listed = gustaffo.http.get("/api/v1/webhooks", headers=gustaffo.auth).json()["webhooks"]
        assert [w["webhookId"] for w in listed] == ["wh_active"]
        deleted = gustaffo.http.delete("/api/v1/webhooks/wh_deleted", headers=gustaffo.auth)
        assert deleted.status_code == 404
        paid_payment(gustaffo)
        [delivery] = settled(server.base_url, until=1)
        assert delivery["payload"]["webhookId"] == "wh_active"
    finally:
        gustaffo.http.close()


def test_the_pending_view_of_the_outbox_holds_only_what_is_still_to_be_sent(
    start_sandbox: StartSandbox, sink: WebhookSink
) -> None:
    server = start_sandbox()
    tx = Tx(server.base_url)
    try:
        delivered = tx.pay(VISA, notificationUrl=f"{sink.url}/ok")
        sink.wait_for(1)
        refused = tx.pay(VISA, notificationUrl="http://127.0.0.1:9/nobody")  # fails, then waits 2 s
        deadline = time.monotonic() + 5
        while sum(d["attempts"] for d in tx.outbox()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        everything = outbox(server.base_url)
        assert {(d["payload"]["paymentId"], d["state"]) for d in everything} == {
            (delivered["paymentId"], "delivered"),
            (refused["paymentId"], "pending"),
        }
        [pending] = outbox(server.base_url, state="pending")
        assert pending == next(d for d in everything if d["state"] == "pending")  # the same view of it
        assert pending["attempt_log"][0]["status_code"] is None
        assert outbox(server.base_url, gateway="txservices", state="pending") == [pending]
        assert outbox(server.base_url, gateway="gustaffo", state="pending") == []
        assert httpx.get(f"{server.base_url}/_sandbox/outbox", params={"state": "sent"}).status_code == 422
    finally:
        tx.close()
