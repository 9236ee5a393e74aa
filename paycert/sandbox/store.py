"""A small document store on SQLite: what the sandbox knows survives a restart."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

Document = dict[str, Any]


class Store:
    """JSON documents by (kind, key). Thread-safe: the uvicorn loop and the outbox worker share it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS documents ("
            " kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (kind, key))"
        )

    @property
    def connection(self) -> sqlite3.Connection:
        """The shared connection, for modules (the outbox) that keep tables of their own."""
        return self._db

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def put(self, kind: str, key: str, doc: Document) -> Document:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO documents (kind, key, body) VALUES (?, ?, ?)",
                (kind, key, json.dumps(doc, sort_keys=True)),
            )
        return doc

    def get(self, kind: str, key: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM documents WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str) -> list[Document]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM documents WHERE kind = ? ORDER BY rowid", (kind,)
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def new_id(prefix: str, nbytes: int = 8) -> str:
    """A random, URL-safe identifier such as `pay_3f9a0c1d2e4b5a69`."""
    return f"{prefix}{secrets.token_hex(nbytes)}"
