"""A small document store on SQLite: what the sandbox knows survives a restart.

Built to stay cheap as history grows and under concurrent requests:

- WAL with `synchronous=NORMAL`: a commit appends to the log without an fsync (the log is synced at
  checkpoints); a crash of the process loses nothing committed, only a power cut can lose the last commits.
- Writes are batched: a write opens a transaction and `commit()` ends it. The app commits before each answer
  leaves (`CommitBeforeAnswer`) and the background worker after each tick, so one commit covers whatever the
  requests in flight wrote meanwhile, instead of one commit per row; nothing a client was told is uncommitted.
- Checkpoints (the only fsyncs) run mostly on a thread of their own with their own connection, off the event
  loop (see `connect` for the one SQLite still makes after a commit).
- A document kind can have a due time (`index_due`): kept in an indexed column, so "what is due now" is an
  index range, not a read of every open document.
- `update` is an atomic check-and-update: the change is written only if the document is still the version
  it was computed from (compare-and-set on a version column).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Document = dict[str, Any]
DueOf = Callable[[Document], float | None]

# How often the checkpoint thread folds the write-ahead log back into the database file, and the size the log
# file is cut back to once reset.
CHECKPOINT_SECONDS = 0.2
_WAL_LIMIT_BYTES = 16 * 1024 * 1024
_CAS_ATTEMPTS = 100

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS documents ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY (kind, key))"
)
_COLUMNS = {"version": "INTEGER NOT NULL DEFAULT 0", "due_at": "REAL"}
_DUE_INDEX = "CREATE INDEX IF NOT EXISTS documents_due ON documents (kind, due_at) WHERE due_at IS NOT NULL"


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    # The checkpoint thread folds the log in as it grows, so the checkpoint SQLite runs after a commit that
    # takes the log past 1 000 pages usually finds nothing left to copy. That one cannot be left out: only a
    # checkpoint made between the writer's transactions ends with the log reset, and without it a sandbox
    # under steady load grows its log without bound (a checkpoint on another thread never catches up).
    db.execute("PRAGMA wal_autocheckpoint=1000")
    db.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT_BYTES}")
    return db


class Store:
    """JSON documents by (kind, key). Thread-safe: the uvicorn loop, its thread pool and the outbox share it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = connect(path)
        self._db.execute(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        # A data folder of an older sandbox lacks these columns: added, and due times filled in on index_due.
        self._migrated = not set(_COLUMNS) <= present
        for name, declaration in _COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE documents ADD COLUMN {name} {declaration}")
        self._db.execute(_DUE_INDEX)
        self._due_of: dict[str, DueOf] = {}
        self._checkpointer = _Checkpointer(path)

    @property
    def connection(self) -> sqlite3.Connection:
        """The shared connection, for modules (the outbox) that keep tables of their own.

        Write through `write()`, so the statement joins the current batch; hold `lock` around several reads.
        """
        return self._db

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one writing statement inside the current batch (opened if none is)."""
        with self._lock:
            if not self._db.in_transaction:
                self._db.execute("BEGIN")
            return self._db.execute(sql, args)

    def commit(self) -> None:
        """Make everything written so far durable (cheap when nothing was)."""
        with self._lock:
            if self._db.in_transaction:
                self._db.execute("COMMIT")

    def index_due(self, kind: str, due_of: DueOf) -> None:
        """Keep a due time for documents of `kind` (None: not due), computed at every write, for `due()`."""
        backfill = self._migrated and kind not in self._due_of
        self._due_of[kind] = due_of
        if backfill:
            with self._lock:
                rows = self._db.execute("SELECT key, body FROM documents WHERE kind = ?", (kind,)).fetchall()
                for key, body in rows:
                    self.write(
                        "UPDATE documents SET due_at = ? WHERE kind = ? AND key = ?",
                        (due_of(json.loads(body)), kind, key),
                    )
                self.commit()

    def _due_at(self, kind: str, doc: Document) -> float | None:
        due_of = self._due_of.get(kind)
        return due_of(doc) if due_of else None

    def put(self, kind: str, key: str, doc: Document) -> Document:
        self.write(
            "INSERT INTO documents (kind, key, body, due_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, key) DO UPDATE"
            " SET body = excluded.body, due_at = excluded.due_at, version = version + 1",
            (kind, key, json.dumps(doc, sort_keys=True), self._due_at(kind, doc)),
        )
        return doc

    def get(self, kind: str, key: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM documents WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def update(self, kind: str, key: str, change: Callable[[Document], Document | None]) -> Document | None:
        """Read, `change` and write one document atomically; None if it is unknown or `change` says None.

        `change` gets the stored document and returns the new one (or None to leave it as it is, or raises
        to refuse). The write happens only if nobody wrote the document since it was read: two refunds can
        never both pass a check on the same refundable amount.
        """
        with self._lock:
            for _ in range(_CAS_ATTEMPTS):
                row = self._db.execute(
                    "SELECT body, version FROM documents WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
                if row is None:
                    return None
                doc = change(json.loads(row[0]))
                if doc is None:
                    return None
                written = self.write(
                    "UPDATE documents SET body = ?, due_at = ?, version = version + 1"
                    " WHERE kind = ? AND key = ? AND version = ?",
                    (json.dumps(doc, sort_keys=True), self._due_at(kind, doc), kind, key, row[1]),
                )
                if written.rowcount == 1:
                    return doc
        raise RuntimeError(f"{kind} {key}: changed by others {_CAS_ATTEMPTS} times in a row")

    def due(self, kind: str, now: float) -> list[str]:
        """Keys of the documents of `kind` whose due time has come, earliest first (an index range)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM documents WHERE kind = ? AND due_at IS NOT NULL AND due_at <= ?"
                " ORDER BY due_at",
                (kind, now),
            ).fetchall()
        return [key for (key,) in rows]

    def all(self, kind: str) -> list[Document]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM documents WHERE kind = ? ORDER BY rowid", (kind,)
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def delete(self, kind: str, key: str) -> None:
        self.write("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        with self._lock:
            self.commit()
            self._checkpointer.stop()
            self._db.close()  # the last connection to close checkpoints what is left and removes the log


class _Checkpointer:
    """Folds the write-ahead log into the database every CHECKPOINT_SECONDS, on its own thread.

    PASSIVE never waits for the writer, so the event loop is never held up by the fsyncs a checkpoint makes.
    """

    def __init__(self, path: Path) -> None:
        self._db = connect(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paycert-sandbox-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_SECONDS):
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._db.close()


def new_id(prefix: str, nbytes: int = 8) -> str:
    """A random, URL-safe identifier such as `pay_3f9a0c1d2e4b5a69`."""
    return f"{prefix}{secrets.token_hex(nbytes)}"
