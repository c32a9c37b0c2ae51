"""The console's store write on both backends: Retry of a dead row only."""

from __future__ import annotations

from datetime import UTC, datetime

from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.events import Target, insert_notifications
from notifbot.ui.queries import Requeued, requeue_dead

T0 = 2e9
SLACK = Target("ops", "slack", "C1")


def store(conn: Conn, key: str) -> int:
    event = parse_event({"kind": "audit", "id": key}, now=datetime(2026, 12, 1, tzinfo=UTC))
    insert_notifications(conn, [(event, [SLACK])], now=T0)
    return int(conn.execute("SELECT max(id) FROM outbox").fetchone()[0])


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
    assert [p.id for p in outbox.list_pending(conn)] == [pending, dead]
    assert outbox.due_targets(conn, T0 + 5) == [("slack", "C1")]
