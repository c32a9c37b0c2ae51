"""Write transactions, key locks and storage-failure detection through the dialect, on each backend."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from notifbot.store.conn import Conn
from notifbot.store.db import connect, transaction
from notifbot.store.dialect import SQLITE, dialect_of, is_database_error, is_storage_failure, lock_keys


def test_an_error_inside_rolls_back_and_leaves_the_connection_usable(store_conn: Conn) -> None:
    conn = store_conn
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO readiness_probe (id, at) VALUES (1, 1.0)")
        raise RuntimeError("the caller failed")
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM readiness_probe").fetchone()[0] == 0
    with transaction(conn):
        conn.execute("INSERT INTO readiness_probe (id, at) VALUES (1, 2.0)")
    assert conn.execute("SELECT at FROM readiness_probe").fetchone()[0] == 2.0


def test_a_database_error_is_one_of_the_driver_s_but_not_a_storage_failure(store_conn: Conn) -> None:
    conn = store_conn
    conn.execute("INSERT INTO readiness_probe (id, at) VALUES (1, 1.0)")
    with pytest.raises(Exception) as caught:
        conn.execute("INSERT INTO readiness_probe (id, at) VALUES (1, 2.0)")
    assert is_database_error(caught.value) and not is_storage_failure(caught.value)
    assert not is_database_error(ValueError("x")) and not is_storage_failure(ValueError("x"))


def test_sqlite_operational_errors_are_storage_failures(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    connect(db).close()
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as caught:
        ro.execute("INSERT INTO readiness_probe (id, at) VALUES (1, 1.0)")
    assert is_storage_failure(caught.value) and is_database_error(caught.value)
    ro.close()


def test_key_locks_cost_sqlite_nothing(tmp_path: Path) -> None:
    conn = connect(tmp_path / "n.db")
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    with transaction(conn):
        lock_keys(conn, "group:g1", "digest:d1")
    conn.set_trace_callback(None)
    assert dialect_of(conn) is SQLITE and seen == ["BEGIN IMMEDIATE", "COMMIT"]


def test_a_key_lock_is_held_until_the_transaction_ends(pg_store_url: str) -> None:
    from notifbot.store import pg

    holder, other = pg.connect(pg_store_url), pg.connect(pg_store_url)
    try:
        free = "SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0))"
        with transaction(holder):
            lock_keys(holder, "group:g1", "group:g1")  # taking a key twice is harmless
            with transaction(other):
                assert other.execute(free, ("group:g1",)).fetchone()[0] is False
                assert other.execute(free, ("group:g2",)).fetchone()[0] is True
        with transaction(other):
            assert other.execute(free, ("group:g1",)).fetchone()[0] is True
    finally:
        holder.close()
        other.close()


def test_postgres_failures_of_the_store_are_storage_failures(pg_store_url: str) -> None:
    import psycopg

    from notifbot.store import pg

    conn = pg.connect(pg_store_url)
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    with pytest.raises(psycopg.Error) as read_only:
        conn.execute("INSERT INTO readiness_probe (id, at) VALUES (1, 1.0)")
    assert is_storage_failure(read_only.value)
    conn.close()
    with pytest.raises(psycopg.Error) as closed:
        conn.execute("SELECT 1")
    assert is_storage_failure(closed.value)
