"""Runs store functions on one dedicated thread so SQLite never blocks the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from notifbot.store.db import connect

P = ParamSpec("P")
T = TypeVar("T")
CHECKPOINT_SECONDS = 1.0


def _checkpoint_forever(path: str, stop: threading.Event, every: float) -> None:
    """Copies the WAL into the database every `every` s on its own connection, so commits never pay for it.

    With SQLite's automatic checkpoint the commit that crosses 1,000 WAL pages writes them back and fsyncs the
    database file inside the request that committed; at 1,000 events/s that put 100–250 ms stalls on ~1 % of
    ingest requests (bench/adobe_io.py). PASSIVE never blocks the writer or the readers.
    """
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        while not stop.wait(every):
            with contextlib.suppress(sqlite3.Error):  # busy or closing: the next round catches up
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        conn.close()


def _reader(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Database:
    """A writer connection on one thread (`call`) and a reader connection on another (`read`).

    WAL lets the reader see committed data while the writer commits, so a slow query behind a command never holds
    up ingest or delivery.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "full") -> None:
        self.path = str(path)
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notifbot-db")
        self._conn: sqlite3.Connection = self._executor.submit(
            connect, path, synchronous=synchronous
        ).result()
        self._read_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notifbot-db-read")
        self._read_conn: sqlite3.Connection | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        if self.path != ":memory:":
            self._executor.submit(self._conn.execute, "PRAGMA wal_autocheckpoint=0").result()
            self._checkpointer = threading.Thread(
                target=_checkpoint_forever,
                args=(self.path, self._stop_checkpoints, CHECKPOINT_SECONDS),
                name="notifbot-db-checkpoint",
                daemon=True,
            )
            self._checkpointer.start()

    async def read(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Runs a read-only `fn(conn, …)` on the reader thread (writes there fail: the connection is query_only)."""

        def run() -> T:
            if self._read_conn is None:
                self._read_conn = _reader(self.path)
            return fn(self._read_conn, *args, **kwargs)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_executor, run)

    async def call(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Runs `fn(conn, *args, **kwargs)` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._conn, *args, **kwargs))

    def call_sync(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Runs `fn` on the database thread and waits (for start-up and CLI paths)."""
        return self._executor.submit(lambda: fn(self._conn, *args, **kwargs)).result()

    async def writable(self) -> bool:
        """True when a write transaction can be opened right now (readiness)."""

        def probe(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True

        try:
            return await self.call(probe)
        except sqlite3.Error:
            return False

    def close(self) -> None:
        """Closes the connection and stops the thread (again is a no-op)."""
        if self._closed:
            return
        self._closed = True
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
        try:
            self._executor.submit(self._conn.close).result()
            if self._read_conn is not None:
                self._read_executor.submit(self._read_conn.close).result()
        finally:
            self._executor.shutdown(wait=True)
            self._read_executor.shutdown(wait=True)
