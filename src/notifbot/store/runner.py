"""Runs store functions on one dedicated thread so SQLite never blocks the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from notifbot.store.db import connect

P = ParamSpec("P")
T = TypeVar("T")


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
        try:
            self._executor.submit(self._conn.close).result()
            if self._read_conn is not None:
                self._read_executor.submit(self._read_conn.close).result()
        finally:
            self._executor.shutdown(wait=True)
            self._read_executor.shutdown(wait=True)
