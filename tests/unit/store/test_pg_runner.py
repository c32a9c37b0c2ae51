"""PgDatabase against the real server: pooled calls in parallel, readiness, outages and reconnection, redaction."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from notifbot.config import Env, StorageSettings
from notifbot.errors import ConfigError
from notifbot.store.email_cursors import email_cursor, save_email_cursor
from notifbot.store.open import database_url, describe, open_database
from notifbot.store.pg import PgConn
from notifbot.store.pg_runner import DatabaseUnavailable, PgDatabase
from notifbot.store.runner import Database
from tests.pg_support import ADMIN_URL

PASSWORD = (
    "hunter2-never-shown"  # trust auth: the server ignores it, so it can only leak through our own code
)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def admin(sql: str, *params: object) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


def terminate(url: str) -> int:
    """Ends every server process connected to `url`'s database (what a server restart or failover does to us)."""
    rows = admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        database_name(url),
    )
    return len(rows)


@contextmanager
def refusing(url: str) -> Iterator[None]:
    """The database takes no connection (as while its server is down) until the block ends."""
    name = database_name(url)
    admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    terminate(url)
    try:
        yield
    finally:
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.fixture
def pgdb(postgres_url: str) -> Iterator[PgDatabase]:
    """A PgDatabase of 3 connections on the module's database; a call waits up to 3 s for a connection."""
    db = PgDatabase(with_password(postgres_url), pool_size=3, replica_id="test-replica", checkout_timeout=3.0)
    yield db
    db.close()


@pytest.fixture
def quick_pgdb(postgres_url: str) -> Iterator[PgDatabase]:
    """As `pgdb`, but a call gives up after 1 s without a connection (outage tests)."""
    db = PgDatabase(with_password(postgres_url), pool_size=3, replica_id="test-replica", checkout_timeout=1.0)
    yield db
    db.close()


def backend_settings(conn: PgConn) -> tuple[Any, ...]:
    return tuple(
        conn.execute(
            "SELECT current_setting('application_name'), current_setting('statement_timeout'),"
            " current_setting('idle_in_transaction_session_timeout'), pg_backend_pid()"
        ).fetchone()
    )


def sleep_and_pid(conn: PgConn, seconds: float) -> int:
    return int(conn.execute("SELECT pg_backend_pid() FROM pg_sleep(?)", (seconds,)).fetchone()[0])


async def test_calls_run_store_functions_on_pooled_connections_in_parallel(pgdb: PgDatabase) -> None:
    assert pgdb.call_sync(email_cursor, "ops@x", "INBOX") is None
    await pgdb.call(save_email_cursor, "ops@x", "INBOX", 7, 1234)
    assert (await pgdb.read(email_cursor, "ops@x", "INBOX")) == (7, 1234)
    name, statement, idle, _ = await pgdb.call(backend_settings)
    assert (name, statement, idle) == ("notifbot/test-replica", "30s", "1min")
    started = time.monotonic()
    pids = await asyncio.gather(*(pgdb.call(sleep_and_pid, 0.3) for _ in range(3)))
    assert time.monotonic() - started < 0.8  # three connections, three threads: the sleeps overlap
    assert len(set(pids)) == 3


async def test_reopening_applies_no_migration_twice(postgres_url: str) -> None:
    first = PgDatabase(postgres_url, pool_size=1)
    first.close()
    count = admin("SELECT count(*) FROM pg_database WHERE datname = %s", database_name(postgres_url))
    assert count == [(1,)]
    again = PgDatabase(postgres_url, pool_size=1)
    try:
        names = [
            r[0]
            for r in await again.read(lambda c: c.execute("SELECT name FROM notifbot_migrations").fetchall())
        ]
        assert len(names) == len(set(names)) > 10
    finally:
        again.close()


async def test_readiness_commits_a_probe_and_reports_an_outage_then_recovers(quick_pgdb: PgDatabase) -> None:
    pgdb = quick_pgdb
    assert await pgdb.write_problem() is None
    assert (await pgdb.read(lambda c: c.execute("SELECT id FROM readiness_probe").fetchall())) == [(1,)]
    with refusing(pgdb.url):
        await asyncio.sleep(1.1)  # past the cached answer
        started = time.monotonic()
        problem = await pgdb.write_problem()
        assert time.monotonic() - started < 2.1
        assert problem is not None and "the database at postgresql://postgres@127.0.0.1" in problem, problem
        assert "pool:" in problem and "connections idle" in problem
        assert PASSWORD not in problem
        with pytest.raises(DatabaseUnavailable) as err:
            await pgdb.call(email_cursor, "ops@x", "INBOX")
        assert isinstance(err.value, sqlite3.OperationalError)  # the batcher's "store failing", not bad data
        assert PASSWORD not in str(err.value)
    await asyncio.sleep(1.1)
    deadline = time.monotonic() + 10
    while await pgdb.write_problem() is not None:
        assert time.monotonic() < deadline, "the pool did not reconnect"
        await asyncio.sleep(0.2)
    assert await pgdb.call(email_cursor, "nobody@x", "INBOX") is None


async def test_terminated_connections_are_replaced_and_the_next_call_succeeds(pgdb: PgDatabase) -> None:
    before = {(await pgdb.call(backend_settings))[3] for _ in range(3)}
    assert terminate(pgdb.url) >= 1
    started = time.monotonic()
    await pgdb.call(
        save_email_cursor, "ops@x", "INBOX", 1, 2
    )  # a broken connection is never lent: no error at all
    assert time.monotonic() - started < 2.5  # one back-off of the pool at most, not one per broken connection
    after = {r[3] for r in await asyncio.gather(*(pgdb.call(backend_settings) for _ in range(3)))}
    assert not before & after
    assert await pgdb.read(email_cursor, "ops@x", "INBOX") == (1, 2)


async def test_a_commit_during_an_outage_fails_the_whole_ingest_batch_at_once(quick_pgdb: PgDatabase) -> None:
    pgdb = quick_pgdb
    from notifbot.sources.events import parse_event
    from notifbot.store.batch import IngestBatcher
    from notifbot.store.events import Target

    batcher = IngestBatcher(pgdb)  # type: ignore[arg-type]
    items = [
        [
            (
                parse_event({"kind": "audit", "id": f"k{i}"}, now=datetime.now(UTC)),
                [Target("ops", "console", "-")],
            )
        ]
        for i in range(3)
    ]
    with refusing(pgdb.url):
        results = await asyncio.gather(*(batcher.submit(i) for i in items), return_exceptions=True)
    assert all(isinstance(r, DatabaseUnavailable) for r in results), results


def test_closing_answers_closed_and_refuses_calls(postgres_url: str) -> None:
    db = PgDatabase(postgres_url, pool_size=1)
    db.close()
    db.close()
    assert asyncio.run(db.write_problem()) == "the database is closed"
    with pytest.raises(RuntimeError):
        db.call_sync(email_cursor, "x", "INBOX")


def test_an_unreachable_database_is_a_config_error_without_the_password(postgres_url: str) -> None:
    missing = with_password(postgres_url).rsplit("/", 1)[0] + "/notifbot_no_such_database"
    with pytest.raises(ConfigError) as err:
        PgDatabase(missing, source="env.NOTIFBOT_DATABASE_URL")
    [problem] = err.value.problems
    assert problem.startswith("env.NOTIFBOT_DATABASE_URL: cannot connect to postgresql://postgres@127.0.0.1")
    assert "notifbot_no_such_database" in problem and PASSWORD not in problem


def test_open_database_picks_the_backend_and_the_environment_wins(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sqlite = open_database(StorageSettings(path=str(tmp_path / "n.db")), Env({}))
    assert isinstance(sqlite, Database)
    sqlite.close()
    configured = StorageSettings(url="postgresql://nobody@127.0.0.1:1/nothing", path="x.db", pool_size=2)
    env = Env({"NOTIFBOT_DATABASE_URL": with_password(postgres_url)})
    assert database_url(configured, env) == (with_password(postgres_url), "env.NOTIFBOT_DATABASE_URL")
    assert describe(configured, env).startswith("postgresql://postgres@127.0.0.1")
    with caplog.at_level(logging.INFO, logger="notifbot.store"):
        pg = open_database(configured, env)
    try:
        assert isinstance(pg, PgDatabase) and pg.pool_size == 2
        assert "storage.path: SQLite settings, ignored" in caplog.text
        assert PASSWORD not in caplog.text
    finally:
        pg.close()
