"""Runs store functions against PostgreSQL: a connection pool and as many threads, `Database`'s surface.

Each call checks a connection out of a `psycopg_pool.ConnectionPool` for the duration of `fn` and hands it to `fn`
as a `PgConn`, on one of `pool_size` executor threads: the event loop never blocks, and as many store calls run at
once as there are connections. Reads and writes share the pool (PostgreSQL needs no separate reader). The pool
checks a connection before lending it and replaces broken ones, so the bot reconnects by itself once the server is
back; while it is not, calls fail with `DatabaseUnavailable`, which the ingest batcher treats as the store failing
(503, nothing accepted) rather than as bad data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from notifbot.errors import ConfigError, NotifbotError
from notifbot.store.db import transaction
from notifbot.store.health import WriteProbe
from notifbot.store.pg import PgConn, Row, migrate_pg, row_factory
from notifbot.store.pg_url import password_of, redacted

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger("notifbot.store")

CONNECT_TIMEOUT_SECONDS = 10  # libpq's connect_timeout for each new connection
CHECKOUT_TIMEOUT_SECONDS = 5.0  # a call waits this long for a connection before failing (503 on ingest)
PROBE_CHECKOUT_SECONDS = 1.5  # the readiness probe's wait for a connection, inside /readyz's 2 s bound
STATEMENT_TIMEOUT_MS = 30_000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


class DatabaseUnavailable(NotifbotError, sqlite3.OperationalError):
    """The PostgreSQL server cannot be reached or dropped the connection (the store failing, not the data).

    An `OperationalError` like SQLite's locked or read-only database, so the ingest batcher (store/batch.py) fails
    the whole batch at once (503) instead of retrying each request on its own.
    """


def default_replica_id() -> str:
    """This process's name in `application_name` (pg_stat_activity): host and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _scrubbed(text: str, url: str) -> str:
    password = password_of(url)
    return text.replace(password, "***") if password else text


def _probe_commit(conn: PgConn, now: float) -> None:
    """One tiny real commit: the readiness probe row."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO readiness_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            (now,),
        )


class PgDatabase:
    """The store on PostgreSQL: `call`, `read` and `call_sync` run `fn(conn, …)` with a pooled connection.

    Opening migrates the database (`migrate_pg`, under an advisory lock, so replicas starting together migrate once)
    and fills the pool; a server that cannot be reached then is a ConfigError naming the URL without its password.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 4,
        replica_id: str | None = None,
        source: str = "storage.url",
        checkout_timeout: float = CHECKOUT_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self.shown_url = redacted(url)
        self.pool_size = pool_size
        self.replica_id = replica_id or default_replica_id()
        self._checkout_timeout = checkout_timeout
        self._closed = False
        self._sweeping = threading.Event()
        self._migrate(source)
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=pool_size,
            max_size=pool_size,
            open=False,
            name="notifbot",
            timeout=checkout_timeout,
            check=self._check,
            connection_class=psycopg.Connection[Row],
            kwargs=self._connect_kwargs(),
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        except PoolTimeout as exc:
            self._pool.close()
            raise ConfigError(
                [f"{source}: cannot open {pool_size} connections to {self.shown_url} ({exc})"]
            ) from None
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="notifbot-db")
        self._probe = WriteProbe(self._probe_once)
        log.info("store: PostgreSQL at %s, %d connections", self.shown_url, pool_size)

    def _check(self, conn: psycopg.Connection[Row]) -> None:
        """The pool's test of a connection before lending it; a broken one makes the pool test all its others now.

        One broken connection usually means all are (server restart, failover, terminated backends); the pool alone
        would find them one per checkout, a second of backoff apart.
        """
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            if not self._sweeping.is_set():
                self._sweeping.set()
                threading.Thread(target=self._sweep, name="notifbot-db-check", daemon=True).start()
            raise

    def _sweep(self) -> None:
        try:
            self._pool.check()
        except psycopg.Error:
            pass  # the server is down: the pool's own reconnection takes over
        finally:
            self._sweeping.clear()

    def _connect_kwargs(self) -> dict[str, Any]:
        return {
            "autocommit": True,
            "row_factory": row_factory,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": f"notifbot/{self.replica_id}"[:63],
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
            f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}",
        }

    def _migrate(self, source: str) -> None:
        """Applies pending migrations over a connection of its own, before the pool opens."""
        try:
            raw = psycopg.connect(self.url, **self._connect_kwargs())
        except psycopg.Error as exc:
            reason = _scrubbed(
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, self.url
            )
            raise ConfigError([f"{source}: cannot connect to {self.shown_url} ({reason})"]) from None
        conn = PgConn(raw)
        try:
            applied = migrate_pg(conn)
        finally:
            conn.close()
        if applied:
            log.info("store: applied %d migrations (%s … %s)", len(applied), applied[0], applied[-1])

    def _run(
        self, fn: Callable[Concatenate[PgConn, P], T], timeout: float, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """On an executor thread: `fn` with a connection checked out for its duration."""
        try:
            with self._pool.connection(timeout=timeout) as raw:
                return fn(PgConn(raw), *args, **kwargs)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"the database at {self.shown_url} is unavailable ({_scrubbed(str(exc).strip(), self.url)})"
            ) from exc

    async def call(self, fn: Callable[Concatenate[PgConn, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs `fn(conn, *args, **kwargs)` on a pool thread with a pooled connection."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self._run(fn, self._checkout_timeout, *args, **kwargs)
        )

    async def read(self, fn: Callable[Concatenate[PgConn, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs a read-only `fn(conn, …)`: as `call` (every pooled connection sees committed data)."""
        return await self.call(fn, *args, **kwargs)

    def call_sync(self, fn: Callable[Concatenate[PgConn, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Runs `fn` on a pool thread and waits: start-up only, never the event loop."""
        return self._executor.submit(lambda: self._run(fn, self._checkout_timeout, *args, **kwargs)).result()

    async def write_problem(self) -> str | None:
        """None when an event can be committed now; otherwise why not, with the pool's state. Within 2 s."""
        if self._closed:
            return "the database is closed"
        problem = await self._probe.problem()
        if problem is None:
            return None
        if problem.startswith("a test commit has not finished"):
            problem = f"{problem.split(' (')[0]} (the database at {self.shown_url} does not answer)"
        return f"{problem}; {self.pool_state()}"

    def pool_state(self) -> str:
        """The pool as /readyz shows it: connections idle, requests waiting, connection errors since start."""
        stats = self._pool.get_stats()
        return (
            f"pool: {stats.get('pool_available', 0)} of {stats.get('pool_size', 0)} connections idle, "
            f"{stats.get('requests_waiting', 0)} requests waiting, "
            f"{stats.get('connections_errors', 0)} failed connection attempts, "
            f"{stats.get('connections_lost', 0)} connections lost"
        )

    async def _probe_once(self) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self._executor, lambda: self._run(_probe_commit, PROBE_CHECKOUT_SECONDS, time.time())
            )
        except DatabaseUnavailable as exc:
            return str(exc)
        except psycopg.Error as exc:
            return f"a commit to the database at {self.shown_url} failed ({type(exc).__name__}: {_scrubbed(str(exc).strip(), self.url)})"
        return None

    async def __aenter__(self) -> PgDatabase:
        """The database as a component: open since construction, closed on exit (the last to stop)."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the pool's connections and stops the threads (again is a no-op)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._executor.shutdown(wait=True)
        finally:
            self._pool.close()
