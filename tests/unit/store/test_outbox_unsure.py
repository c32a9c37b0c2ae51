"""The outbox remembers attempts that may have reached the destination, across retries, shutdowns and crashes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.db import connect, migrations
from notifbot.store.events import Target, insert_notifications

NOW = datetime(2026, 11, 29, tzinfo=UTC)
T = Target("ops", "slack", "C1")
T0 = 2e9  # after NOW, when the rows become due


def one_row(conn: Conn) -> Conn:
    insert_notifications(conn, [(parse_event({"kind": "audit", "id": "k"}, now=NOW), [T])])
    return conn


def claim(conn: Conn, worker: str, now: float) -> outbox.OutboxRow:
    row = outbox.claim_next(conn, "slack", "C1", worker, now, 30)
    assert row is not None
    return row


def test_a_fresh_row_and_a_certain_failure_are_not_unsure(store_conn: Conn) -> None:
    conn = one_row(store_conn)
    row = claim(conn, "w", T0)
    assert row.unsure_since is None
    outbox.mark_retry(conn, row.id, "w", "connection refused", T0 + 1)
    assert claim(conn, "w", T0 + 2).unsure_since is None


def test_an_unsure_attempt_is_remembered_from_the_first_one(store_conn: Conn) -> None:
    conn = one_row(store_conn)
    row = claim(conn, "w", T0)
    outbox.mark_retry(conn, row.id, "w", "timeout", T0 + 20, unsure_since=T0)
    row = claim(conn, "w", T0 + 20)
    assert row.unsure_since == T0 and row.attempts == 1
    outbox.mark_retry(conn, row.id, "w", "timeout again", T0 + 60, unsure_since=T0 + 20)
    outbox.mark_retry(conn, row.id, "w", "ignored: not the claimant", T0 + 60, unsure_since=T0 + 1)
    row = claim(conn, "w", T0 + 60)
    assert row.unsure_since == T0  # the earliest attempt bounds the search
    outbox.mark_retry(conn, row.id, "w", "history unreadable now", T0 + 90)
    assert claim(conn, "w", T0 + 90).unsure_since == T0  # a later certain failure does not clear it


def test_a_claim_that_expired_without_an_outcome_is_unsure_since_it_began(store_conn: Conn) -> None:
    conn = one_row(store_conn)
    claim(conn, "crashed", T0)
    assert outbox.claim_next(conn, "slack", "C1", "w2", T0 + 29, 30) is None  # still leased
    row = claim(conn, "w2", T0 + 31)
    assert row.unsure_since == T0
    outbox.release(conn, row.id, "w2")  # a shutdown before sending keeps what was known
    assert claim(conn, "w3", T0 + 40).unsure_since == T0


def test_a_send_cut_short_by_shutdown_is_released_unsure(store_conn: Conn) -> None:
    conn = one_row(store_conn)
    row = claim(conn, "w", T0)
    outbox.release(conn, row.id, "w", T0 + 0.5)
    again = claim(conn, "w", T0 + 1)
    assert (again.unsure_since, again.attempts) == (T0 + 0.5, 0)


def test_dead_unsure_rows_stay_unsure_when_requeued(store_conn: Conn) -> None:
    conn = one_row(store_conn)
    row = claim(conn, "w", T0)
    outbox.mark_dead(conn, row.id, "w", "gave up", unsure_since=T0)
    assert outbox.requeue(conn, row.id, T0 + 100)
    assert claim(conn, "w", T0 + 100).unsure_since == T0


def test_an_existing_database_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    migrations.apply(sqlite_utils.Database(old), stop_before="m006_outbox_unsure_attempts")
    old.execute(
        "INSERT INTO events (id, key, kind, severity, occurred_at, received_at, fields, labels, source, routed_to)"
        " VALUES (1, 'k', 'audit', 'info', '2026-11-29T00:00:00+00:00', '2026-11-29T00:00:00+00:00', '{}', '{}',"
        " 'webhook', '[\"ops\"]')"
    )
    # one row waiting, one claimed by a worker of the old version that then died mid-send
    old.execute(
        "INSERT INTO outbox (id, event_id, destination, dest_type, target, next_attempt_at, created_at)"
        " VALUES (1, 1, 'ops', 'slack', 'C1', 0, ?)",
        (T0,),
    )
    old.execute(
        "INSERT INTO outbox (id, event_id, destination, dest_type, target, next_attempt_at, created_at,"
        " claimed_by, lease_until) VALUES (2, 1, 'log', 'slack', 'C1', 0, ?, 'old-worker', ?)",
        (T0 + 5, T0 + 35),
    )
    columns = {r[1] for r in old.execute("PRAGMA table_info(outbox)")}
    assert "unsure_since" not in columns
    old.close()
    conn = connect(path)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
    assert {"unsure_since", "claimed_at"} <= columns
    first = claim(conn, "new", T0 + 100)
    second = claim(conn, "new", T0 + 100)
    assert (first.id, first.unsure_since) == (1, None)
    assert (second.id, second.unsure_since) == (2, T0 + 5)  # no claim time was kept: its creation bounds it
