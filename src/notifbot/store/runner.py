"""Runs store functions on one dedicated thread so SQLite never blocks the event loop."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from notifbot.errors import ConfigError
from notifbot.store.db import connect
from notifbot.store.dialect import install_sqlite_functions
from notifbot.store.health import (
    FileId,
    WriteProbe,
    check_and_commit,
    file_id,
    free_space_problem,
    unwritable,
)
from notifbot.store.wal import WalKeeper, limit_wal, restart_wal, truncate_leftover_wal

P = ParamSpec("P")
T = TypeVar("T")
WAL_MAX_BYTES = 64 * 1024 * 1024
MIN_FREE_BYTES = 32 * 1024 * 1024
log = logging.getLogger("notifbot.store")


def _check_files(path: str, min_free_bytes: int) -> None:
    """Refuses to open a database SQLite could not write (it would fail later, or die of SIGBUS on an unwritable
    -shm); warns when the disk is nearly full (/readyz says so until it is not)."""
    problem = unwritable(path)
    if problem is not None:
        raise ConfigError([f"storage.path: {problem}"])
    problem = free_space_problem(path, min_free_bytes)
    if problem is not None:
        log.warning("storage: %s", problem)


def _own_checkpoints(conn: sqlite3.Connection, path: str, wal_max_bytes: int) -> None:
    """No automatic checkpoints on the writer (a commit would pay for one); cut a leftover WAL before serving."""
    conn.execute("PRAGMA wal_autocheckpoint=0")
    limit_wal(conn, wal_max_bytes)
    truncate_leftover_wal(conn, path, wal_max_bytes)


def _reader(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    install_sqlite_functions(conn)
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Database:
    """A writer connection on one thread (`call`) and a reader connection on another (`read`).

    WAL lets the reader see committed data while the writer commits, so a slow query behind a command never holds
    up ingest or delivery. A third connection (`WalKeeper`) copies the WAL into the database off the write path and
    keeps the WAL file under `wal_max_bytes`. `write_problem` says whether a commit works now (readiness).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "full",
        wal_max_bytes: int = WAL_MAX_BYTES,
        min_free_bytes: int = MIN_FREE_BYTES,
    ) -> None:
        self.path = str(path)
        self.min_free_bytes = min_free_bytes
        self._closed = False
        if self.path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _check_files(self.path, min_free_bytes)
            if (
                not faulthandler.is_enabled()
            ):  # SQLite maps the -shm: a SIGBUS from it must leave a trace on stderr
                faulthandler.enable()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notifbot-db")
        self._conn: sqlite3.Connection = self._executor.submit(
            connect, path, synchronous=synchronous
        ).result()
        self._read_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notifbot-db-read")
        self._read_conn: sqlite3.Connection | None = None
        self.wal: WalKeeper | None = None
        self._shm: FileId | None = None
        if self.path != ":memory:":
            self.call_sync(_own_checkpoints, self.path, wal_max_bytes)
            # the -shm SQLite has mapped now: readiness notices when the file on disk is no longer that one
            self._shm = file_id(self.path + "-shm")
            self.wal = WalKeeper(self.path, wal_max_bytes, self._restart_wal)
            self.wal.start()
        self._probe = WriteProbe(self._probe_once)

    def _restart_wal(self) -> tuple[int, int, int]:
        """A RESTART checkpoint on the writer's thread, between two of its transactions (busy once closing)."""
        if self._closed:
            return (1, 0, 0)
        return self.call_sync(restart_wal)

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
        """Runs `fn` on the database thread and waits: start-up and the WAL keeper's RESTART, never the event loop."""
        return self._executor.submit(lambda: fn(self._conn, *args, **kwargs)).result()

    async def write_problem(self) -> str | None:
        """None when an event can be committed now; otherwise why not. Answers within 2 s (readiness)."""
        if self._closed:
            return "the database is closed"
        return await self._probe.problem()

    async def _probe_once(self) -> str | None:
        return await self.call(check_and_commit, self.path, self.min_free_bytes, self._shm, time.time())

    async def __aenter__(self) -> Database:
        """The database as a component: open since construction, closed on exit (the last to stop)."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection and stops the thread (again is a no-op)."""
        if self._closed:
            return
        self._closed = True
        if self.wal is not None:
            self.wal.stop()
        try:
            self._executor.submit(self._conn.close).result()
            if self._read_conn is not None:
                self._read_executor.submit(self._read_conn.close).result()
        finally:
            self._executor.shutdown(wait=True)
            self._read_executor.shutdown(wait=True)
