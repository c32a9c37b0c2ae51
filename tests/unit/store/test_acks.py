"""Acknowledgements on both backends: the first ack wins, a retry of the same ack is answered as the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.acks import acknowledge
from notifbot.store.conn import Conn
from notifbot.store.events import Target, insert_notifications
from notifbot.store.groups import load_flush

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T0 = 2_000_000_000.0


def posted(conn: Conn, target: Target, ts: str) -> outbox.OutboxRow:
    insert_notifications(conn, [(parse_event({"kind": "audit", "id": ts}, now=NOW), [target])], now=T0)
    row = outbox.claim_next(conn, "slack", target.target, "w", T0 + 60, 30)
    assert row is not None
    outbox.mark_delivered(conn, row.id, "w", ts, T0 + 60)
    return row


def test_the_first_ack_wins_and_its_retry_is_still_first(store_conn: Conn) -> None:
    conn = store_conn
    posted(conn, Target("ops", "slack", "C1"), "1.1")
    assert acknowledge(conn, "C1", "9.9", "U1", T0) is None
    first = acknowledge(conn, "C1", "1.1", "U1", T0 + 1, via="reply-1")
    assert first is not None and (first.first, first.acked_by, first.acked_at) == (True, "U1", T0 + 1)
    assert first.notification.key == "1.1" and first.group_id is None
    retry = acknowledge(conn, "C1", "1.1", "U1", T0 + 2, via="reply-1")
    assert retry is not None and (retry.first, retry.acked_at) == (True, T0 + 1)
    other = acknowledge(conn, "C1", "1.1", "U2", T0 + 3)
    assert other is not None and (other.first, other.acked_by) == (False, "U1")


def test_acking_a_group_message_marks_the_group(store_conn: Conn) -> None:
    conn = store_conn
    policy = GroupPolicy(("kind",), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))
    row = posted(conn, Target("ops", "slack", "C2", GroupRef("g", "kind=audit", policy)), "2.2")
    ack = acknowledge(conn, "C2", "2.2", "U1", T0 + 61)
    assert ack is not None and ack.first and ack.group_id == row.group_id
    assert row.group_id is not None
    flush = load_flush(conn, row.group_id, head=5, unlisted=5)
    assert flush is not None and flush.state.acked and flush.acked is not None and flush.acked.user_id == "U1"
