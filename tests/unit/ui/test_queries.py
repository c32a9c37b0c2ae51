"""The console's store functions on both backends: pending rows newest first, Retry of a dead row only."""

from __future__ import annotations

from datetime import UTC, datetime

from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.events import Target, insert_notifications
from notifbot.ui.queries import Requeued, list_pending, requeue_dead

T0 = 2e9
SLACK = Target("ops", "slack", "C1")


def store(conn: Conn, key: str) -> int:
    event = parse_event({"kind": "audit", "id": key}, now=datetime(2026, 12, 1, tzinfo=UTC))
    insert_notifications(conn, [(event, [SLACK])], now=T0)
    return int(conn.execute("SELECT max(id) FROM outbox").fetchone()[0])


def test_pending_rows_newest_first_without_the_dead_or_delivered(store_conn: Conn) -> None:
    conn = store_conn
    first, second, third = store(conn, "a"), store(conn, "b"), store(conn, "c")
    row = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert row is not None and row.id == first
    outbox.mark_dead(conn, first, "w", "channel_not_found")
    row = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert row is not None and row.id == second
    outbox.mark_delivered(conn, second, "w", "1.1", T0)
    pending = list_pending(conn)
    assert [(p.id, p.event_key, p.kind, p.destination, p.target) for p in pending] == [
        (third, "c", "audit", "ops", "C1")
    ]
    assert list_pending(conn, limit=0) == []


def test_requeue_puts_only_a_dead_row_back(store_conn: Conn) -> None:
    conn = store_conn
    dead, pending = store(conn, "a"), store(conn, "b")
    row = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert row is not None and row.id == dead
    outbox.mark_dead(conn, dead, "w", "channel_not_found")
    assert requeue_dead(conn, pending, T0 + 5) is None
    assert requeue_dead(conn, 999_999, T0 + 5) is None
    assert requeue_dead(conn, dead, T0 + 5) == Requeued(dead, "ops", "slack", "C1")
    assert requeue_dead(conn, dead, T0 + 6) is None  # pending again: a second click does nothing
    assert [p.id for p in list_pending(conn)] == [pending, dead]
    assert outbox.due_targets(conn, T0 + 5) == [("slack", "C1")]
