"""Alert groups in the store: one outbox row per group episode, armed when the pure lifecycle says work is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.groups import Action, GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn, Row
from notifbot.store.events import Target, insert_notifications
from notifbot.store.groups import Done, load_flush, record_flush

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T0 = 2_000_000_000.0
POLICY = GroupPolicy(("kind", "instance"), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))
REF = GroupRef("g1", "kind=campaign_failure instance=123-ABC-456", POLICY)
T = Target("ops", "slack", "C1", REF)


def accept(conn: Conn, n: int, at: float, *, start: int = 0, severity: str = "warning") -> None:
    events = [
        parse_event(
            {"kind": "campaign_failure", "id": f"e{i}", "severity": severity, "fields": {"campaign_id": i}},
            now=NOW,
        )
        for i in range(start, start + n)
    ]
    insert_notifications(conn, [(e, [T]) for e in events], now=at)


def rows(conn: Conn) -> list[Row]:
    return conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()


def claim(conn: Conn, now: float) -> outbox.OutboxRow | None:
    return outbox.claim_next(conn, "slack", "C1", "w", now, 30)


def test_a_storm_is_one_group_with_one_outbox_row_due_after_wait(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 150, T0)
    accept(conn, 50, T0 + 2, start=150, severity="critical")
    (row,) = rows(conn)
    assert (row["next_attempt_at"], row["status"]) == (T0 + 30, "pending")
    group = conn.execute("SELECT * FROM alert_groups").fetchone()
    assert (group["count"], group["severity"], group["last_seen"]) == (200, "critical", T0 + 2)
    assert conn.execute("SELECT count(*) FROM alert_group_events").fetchone()[0] == 200
    assert claim(conn, T0 + 29) is None and claim(conn, T0 + 30) is not None


def test_a_flush_records_the_post_and_leaves_the_row_due_for_the_thread_detail(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 12, T0)
    row = claim(conn, T0 + 30)
    assert row is not None and row.group_id is not None
    flush = load_flush(conn, row.group_id, head=5, unlisted=50)
    assert flush is not None and flush.state.count == 12 and flush.message_id is None
    assert [n.key for n in flush.head] == [f"e{i}" for i in range(5)] and len(flush.unlisted) == 12
    done = Done((Action.POST,), "1700.1", shown=12, listed=0)
    assert record_flush(conn, row.id, row.group_id, done, True, T0 + 30) == T0 + 31
    assert claim(conn, T0 + 30.5) is None
    row = claim(conn, T0 + 31)
    assert row is not None and row.provider_message_id == "1700.1"
    assert (
        record_flush(conn, row.id, row.group_id, Done((Action.REPLY,), None, 12, 12), True, T0 + 31) is None
    )
    assert rows(conn)[0]["status"] == "delivered"


def test_a_later_event_re_arms_the_row_for_an_edit(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 1, T0)
    row = claim(conn, T0 + 30)
    assert row is not None and row.group_id is not None
    record_flush(conn, row.id, row.group_id, Done((Action.POST,), "1.1", 1, 1), True, T0 + 30)
    assert rows(conn)[0]["status"] == "delivered"
    accept(conn, 3, T0 + 30.2, start=1)
    (r,) = rows(conn)
    assert (r["status"], r["next_attempt_at"]) == ("pending", T0 + 31)  # an edit gap after the post


def test_after_repeat_a_fresh_episode_gets_its_own_row(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 1, T0)
    row = claim(conn, T0 + 30)
    assert row is not None and row.group_id is not None
    record_flush(conn, row.id, row.group_id, Done((Action.POST,), "1.1", 1, 1), True, T0 + 30)
    accept(conn, 1, T0 + 30 + 4 * 3600, start=1)
    first, second = rows(conn)
    assert first["status"] == "delivered" and second["group_id"] != first["group_id"]
    assert [r[0] for r in conn.execute("SELECT closed FROM alert_groups ORDER BY id")] == [1, 0]


def test_ungrouped_targets_still_get_a_row_per_event(store_conn: Conn) -> None:
    conn = store_conn
    e = [parse_event({"kind": "audit", "id": f"a{i}"}, now=NOW) for i in range(3)]
    insert_notifications(conn, [(x, [Target("ops", "slack", "C1")]) for x in e], now=T0)
    assert [r["group_id"] for r in rows(conn)] == [None, None, None]


def test_a_more_severe_event_raises_the_group_row_s_priority(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 3, T0, severity="info")
    assert rows(conn)[0]["priority"] == 0
    accept(conn, 1, T0 + 1, start=3, severity="critical")
    assert rows(conn)[0]["priority"] == 2
    accept(conn, 1, T0 + 2, start=4, severity="warning")
    assert rows(conn)[0]["priority"] == 2
