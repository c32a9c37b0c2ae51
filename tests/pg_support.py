"""A real PostgreSQL for the store tests: a fresh database per test module on the server at 127.0.0.1:5432.

The server is the machine's own (trust auth, a `postgres` database to connect to for CREATE DATABASE), or the one
NOTIFBOT_TEST_POSTGRES_URL names. Without a reachable server (or without the psycopg driver) the tests skip with a
line that says how to run them, except under CI (`CI=true`), where they fail: `.ci/run` must provide the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bench import pg_admin
from notifbot.store.pg_url import redacted

URL_ENV = "NOTIFBOT_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# read at import: the autouse clean_env fixture removes every NOTIFBOT_* variable before each test runs
ADMIN_URL = os.environ.get(URL_ENV) or DEFAULT_ADMIN_URL
HOW_TO_RUN = f"start PostgreSQL on 127.0.0.1:5432 (trust auth) or set {URL_ENV}"
DRIVER_HINT = "pip install 'psycopg[binary]>=3.2' 'psycopg-pool>=3.2'"
DB_PREFIX = "notifbot_test_"
CONNECT_TIMEOUT = 2  # seconds: an unreachable server skips at once instead of hanging the suite


def _unavailable(reason: str) -> NoReturn:
    """Skips (developer machine) or fails (CI=true) the PostgreSQL tests, saying why and how to run them."""
    message = f"PostgreSQL tests not run: {reason}; to run them, {HOW_TO_RUN}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (under CI they must run: .ci/run provides the server)", pytrace=False)
    pytest.skip(message)


def require_postgres(admin_url: str = ADMIN_URL) -> str:
    """`admin_url` once a connection to it works; otherwise skips, or fails under CI."""
    try:
        import psycopg
    except ImportError:
        _unavailable(f"the psycopg driver is not installed ({DRIVER_HINT})")
    try:
        with psycopg.connect(admin_url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _unavailable(f"no PostgreSQL server answers at {redacted(admin_url)} ({first_line})")
    return admin_url


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server (its URL), dropped on exit even if connections to it are still open.

    Its sessions commit without waiting for the WAL flush (`synchronous_commit = off`): what other sessions see is
    unchanged, only a crash of the server itself could lose the last commits, and no test crashes the server.
    """
    import psycopg
    from psycopg import sql

    with pg_admin.fresh_database(admin_url, DB_PREFIX, CONNECT_TIMEOUT) as url:
        with psycopg.connect(admin_url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            name = sql.Identifier(url.rsplit("/", 1)[1])
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(name))
        yield url


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for this test module (skips, or fails under CI, without a server)."""
    with fresh_database(require_postgres()) as url:
        yield url


def skipped_postgres_line(reasons: list[str]) -> str | None:
    """The one summary line `make test` prints when PostgreSQL tests were skipped, or None when none were."""
    count = sum(1 for r in reasons if "PostgreSQL tests not run" in r)
    if count == 0:
        return None
    return f"{count} PostgreSQL test(s) skipped: to run them, {HOW_TO_RUN} (CI=true makes them fail instead)"


@pytest.fixture(scope="session")
def worker_store_url() -> Iterator[str]:
    """One migrated database per test process (each xdist worker), handed to each module as new by `pg_store_url`."""
    from notifbot.store import pg

    with fresh_database(require_postgres()) as url:
        conn = pg.connect(url)
        try:
            pg.migrate_pg(conn)
        finally:
            conn.close()
        yield url


@pytest.fixture(scope="module")
def pg_store_url(worker_store_url: str) -> str:
    """A PostgreSQL database for this module with every store migration applied (`store.pg.migrate_pg`), no rows
    and no connection left by an earlier module: as a new one, without creating and migrating one per module."""
    import psycopg

    with psycopg.connect(ADMIN_URL, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (worker_store_url.rsplit("/", 1)[1],),
        )
    empty_store(worker_store_url)
    return worker_store_url


# One round trip: TRUNCATE only the tables that hold rows (truncating all twenty costs ~0.2 s a test), then every
# sequence that has handed out an id starts again at its first value, as RESTART IDENTITY would.
_EMPTY_STORE = """
DO $$
DECLARE
    t text;
    used text[] := '{}';
    has_rows boolean;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '%(migrations)s' LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%%I)', t) INTO has_rows;
        IF has_rows THEN
            used := used || format('public.%%I', t);
        END IF;
    END LOOP;
    IF cardinality(used) > 0 THEN
        EXECUTE 'TRUNCATE ' || array_to_string(used, ', ') || ' CASCADE';
    END IF;
    PERFORM setval(format('%%I.%%I', schemaname, sequencename)::regclass, start_value, false)
    FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL;
END
$$
"""


def empty_store(url: str) -> None:
    """Deletes every row of the store's tables (migrations kept) and restarts ids at 1, as on a fresh SQLite file."""
    import psycopg

    from notifbot.store.pg import MIGRATIONS_TABLE

    with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
        conn.execute(_EMPTY_STORE % {"migrations": MIGRATIONS_TABLE})


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def store_conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated, empty store connection on each backend: SQLite a fresh file, PostgreSQL the module's database."""
    if request.param == "sqlite":
        from notifbot.store.db import connect

        conn = connect(tmp_path / "notifbot.db")
        yield conn
        conn.close()
        return
    from notifbot.store import pg

    url = request.getfixturevalue("pg_store_url")
    empty_store(url)
    pg_conn = pg.connect(url)
    yield pg_conn
    pg_conn.close()
