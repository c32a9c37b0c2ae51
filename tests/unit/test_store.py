"""The store on both backends: idempotent inserts, outbox leases; SQLite's migrations and reader."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.db import connect, migrate, migrations
from notifbot.store.dialect import SQLITE, dialect_of
from notifbot.store.events import Target, get_event, insert_notifications

NOW = datetime(2026, 11, 29, tzinfo=UTC)
T = Target("ops", "slack", "C1")


def integrity_error(conn: Conn) -> type[Exception]:
    """The driver's constraint-violation error for this connection's backend."""
    if dialect_of(conn) is SQLITE:
        return sqlite3.IntegrityError
    import psycopg

    return psycopg.IntegrityError


def test_migrations_apply_once_and_set_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "n.db"
    conn = connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"events", "outbox", "_sqlite_migrations"} <= tables
    assert migrate(conn) == []
    applied = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set='notifbot'").fetchall()
    assert [r[0] for r in applied] == [m.name for m in migrations._migrations]
    conn.close()
    # reopening an existing database runs nothing again and keeps data
    conn = connect(path)
    assert migrate(conn) == []


def test_insert_is_idempotent_and_round_trips(store_conn: Conn) -> None:
    conn = store_conn
    n = parse_event(
        {"kind": "crm_sync", "id": "k", "fields": {"crm": "dynamics", "failed_leads": 3}}, now=NOW
    )
    first = insert_notifications(conn, [(n, [T])])
    again = insert_notifications(conn, [(n, [T])])
    assert [a.duplicate for a in first + again] == [False, True]
    assert first[0].event_id == again[0].event_id
    assert get_event(conn, first[0].event_id) == n
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_failed_transaction_stores_nothing(store_conn: Conn) -> None:
    conn = store_conn
    n = parse_event({"kind": "audit", "id": "k"}, now=NOW)
    with pytest.raises(integrity_error(conn)):
        insert_notifications(conn, [(n, [T, T])])  # the same destination twice violates UNIQUE
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_claims_are_leases(store_conn: Conn) -> None:
    conn = store_conn
    items = [(parse_event({"kind": "audit", "id": f"k{i}"}, now=NOW), [T]) for i in range(2)]
    insert_notifications(conn, items)
    now = 1e10
    a = outbox.claim_next(conn, "slack", "C1", "w1", now, 30)
    b = outbox.claim_next(conn, "slack", "C1", "w2", now, 30)
    assert a and b and a.id != b.id
    assert outbox.claim_next(conn, "slack", "C1", "w3", now, 30) is None
    # w1 crashes: after its lease runs out, another worker gets the row back
    c = outbox.claim_next(conn, "slack", "C1", "w3", now + 31, 30)
    assert c is not None and c.id == a.id
    # the slow worker's send did happen, so its acknowledgement counts; the second one changes nothing
    outbox.mark_delivered(conn, a.id, "w1", "1.1", now + 32)
    outbox.mark_delivered(conn, c.id, "w3", "1.2", now + 33)
    row = conn.execute("SELECT status, provider_message_id FROM outbox WHERE id=?", (a.id,)).fetchone()
    assert tuple(row) == ("delivered", "1.1")
    # a failure report from a worker that lost its lease is ignored
    outbox.mark_retry(conn, b.id, "w1", "boom", now + 99)
    assert conn.execute("SELECT attempts FROM outbox WHERE id=?", (b.id,)).fetchone()[0] == 0


def test_dead_rows_listed_and_requeued(store_conn: Conn) -> None:
    conn = store_conn
    insert_notifications(conn, [(parse_event({"kind": "audit", "id": "k"}, now=NOW), [T])])
    row = outbox.claim_next(conn, "slack", "C1", "w", 1e10, 30)
    assert row is not None
    outbox.mark_dead(conn, row.id, "w", "channel_not_found")
    dead = outbox.list_dead(conn)
    assert [(d.id, d.last_error, d.event_key) for d in dead] == [(row.id, "channel_not_found", "k")]
    assert outbox.requeue(conn, row.id, 1e10)
    assert not outbox.requeue(conn, row.id, 1e10)
    assert outbox.list_dead(conn) == []
    assert outbox.claim_next(conn, "slack", "C1", "w", 1e10, 30) is not None


async def test_reader_sees_commits_and_cannot_write(tmp_path: Path) -> None:
    from notifbot.store.runner import Database

    db = Database(tmp_path / "n.db")
    try:
        await db.call(insert_notifications, [(parse_event({"kind": "audit", "id": "r1"}, now=NOW), [T])])
        assert await db.read(lambda c: c.execute("SELECT key FROM events").fetchone()[0]) == "r1"
        # store SQL in the common subset runs on the reader too (dialect.install_sqlite_functions)
        assert await db.read(
            lambda c: c.execute("SELECT least(3, NULL, 2), greatest(1, 4)").fetchone()[:]
        ) == (2, 4)
        with pytest.raises(sqlite3.OperationalError):
            await db.read(lambda c: c.execute("DELETE FROM events"))
    finally:
        db.close()
