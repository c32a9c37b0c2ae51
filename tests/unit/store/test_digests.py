"""Digests in the store: one outbox row per period, due at its end; sealed digests pass events to the next period."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from notifbot.digests import DigestPolicy, DigestRef, period_at
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn, Row
from notifbot.store.digests import seal
from notifbot.store.events import Target, insert_notifications
from notifbot.store.mutes import add_mute

NOW = datetime(2026, 12, 1, tzinfo=UTC)
POLICY = DigestPolicy(timedelta(hours=1), time(0, 0), "Europe/Stockholm")
REF = DigestRef("d1", "kind=crm_sync", POLICY)
T = Target("crm", "slack", "C1", digest=REF)
T0 = 2_000_000_000.0  # 03:33:20 UTC: the hourly period ends at 04:00, T0 + 1600 s
END = T0 + 1600


def accept(conn: Conn, n: int, at: float, *, start: int = 0, **extra: object) -> None:
    events = [
        parse_event(
            {
                "kind": "crm_sync",
                "id": f"e{i}",
                "instance": f"I-{i % 3}",
                "fields": {"crm": "dynamics"},
                **extra,
            },
            now=NOW,
        )
        for i in range(start, start + n)
    ]
    insert_notifications(conn, [(e, [T]) for e in events], now=at)


def rows(conn: Conn) -> list[Row]:
    return conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()


def claim(conn: Conn, now: float) -> outbox.OutboxRow | None:
    return outbox.claim_next(conn, "slack", "C1", "w", now, 30)


def test_a_period_of_300_events_is_one_outbox_row_due_at_the_period_end(store_conn: Conn) -> None:
    assert period_at(POLICY, T0).end.timestamp() == END
    conn = store_conn
    accept(conn, 200, T0)
    accept(conn, 100, T0 + 10, start=200, severity="critical")
    (row,) = rows(conn)
    assert (row["next_attempt_at"], row["status"], row["priority"]) == (END, "pending", 2)
    digest = conn.execute("SELECT * FROM digests").fetchone()
    assert (digest["count"], digest["severity"], digest["period_start"]) == (300, "critical", END - 3600)
    assert conn.execute("SELECT count(*) FROM digest_events").fetchone()[0] == 300
    assert outbox.next_due(conn, T0) == END
    assert claim(conn, END - 0.001) is None
    claimed = claim(conn, END)
    assert claimed is not None and claimed.digest_id == digest["id"]


def test_an_empty_period_has_no_row_and_the_next_period_gets_its_own(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 1, T0)
    accept(conn, 1, END + 3 * 3600 + 5, start=1)  # three empty hours later
    ends = [r["next_attempt_at"] for r in rows(conn)]
    assert ends == [END, END + 4 * 3600]
    assert conn.execute("SELECT count(*) FROM digests").fetchone()[0] == 2


def test_seal_shows_count_head_and_mix_and_later_events_go_to_the_next_period(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 7, T0)
    row = claim(conn, END)
    assert row is not None and row.digest_id is not None
    content = seal(conn, row.digest_id, head=5)
    assert content is not None
    assert (content.count, len(content.head), content.first.key) == (7, 5, "e0")
    assert content.breakdown == [("crm_sync", "I-0", 3), ("crm_sync", "I-1", 2), ("crm_sync", "I-2", 2)]
    assert content.period.end.timestamp() == END
    # an event stamped inside the period but committed after the worker read it: the next period holds it
    accept(conn, 1, END - 1, start=7)
    again = seal(conn, row.digest_id, head=50)
    assert again is not None and again.count == 7
    accept(conn, 1, END - 0.5, start=8)  # and another: the same next-period digest
    accept(conn, 1, END + 1, start=9)  # and one inside the next period
    assert [r["next_attempt_at"] for r in rows(conn)] == [END, END + 3600]
    assert [r[0] for r in conn.execute("SELECT count FROM digests ORDER BY id")] == [7, 3]


def test_a_muted_or_duplicate_event_joins_no_digest(store_conn: Conn) -> None:
    conn = store_conn
    accept(conn, 3, T0)
    accept(conn, 3, T0 + 1)  # the same keys again
    n = parse_event({"kind": "crm_sync", "id": "muted"}, now=NOW)
    mute = add_mute(conn, "crm_sync", NOW + timedelta(hours=1), "U1", None, NOW)
    insert_notifications(conn, [(n, [T])], {"muted": mute.id}, now=T0 + 2)
    assert conn.execute("SELECT count FROM digests").fetchone()[0] == 3
    assert len(rows(conn)) == 1
