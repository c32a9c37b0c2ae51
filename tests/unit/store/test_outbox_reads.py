"""Outbox and events reads on both backends: due channels, next due time, depth, leases, key prefixes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifbot.sources.events import parse_event
from notifbot.store import outbox, teams
from notifbot.store.conn import Conn
from notifbot.store.db import transaction
from notifbot.store.event_list import ListRequestError
from notifbot.store.events import Target, count_events, has_key_prefix, insert_notifications

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T0 = 2e9


def store(conn: Conn, key: str, *targets: Target, at: float = T0) -> None:
    insert_notifications(conn, [(parse_event({"kind": "audit", "id": key}, now=NOW), list(targets))], now=at)


def test_due_channels_next_due_and_depth(store_conn: Conn) -> None:
    conn = store_conn
    store(conn, "a", Target("ops", "slack", "C1"), Target("mail", "email", "ops@x"))
    store(conn, "b", Target("ops", "slack", "C2"), at=T0 + 60)
    assert sorted(outbox.due_targets(conn, T0)) == [("email", "ops@x"), ("slack", "C1")]
    assert outbox.next_due(conn, T0) == T0 + 60 and outbox.next_due(conn, T0 + 60) is None
    row = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert row is not None and outbox.due_targets(conn, T0 + 1) == [("email", "ops@x")]
    assert outbox.extend_lease(conn, row.id, "w", T0 + 100)
    assert not outbox.extend_lease(conn, row.id, "other", T0 + 100)
    assert outbox.claim_next(conn, "slack", "C1", "w2", T0 + 50, 30) is None  # the extended lease holds
    outbox.mark_dead(conn, row.id, "w", "channel_not_found")
    assert outbox.depth_by_type(conn) == {
        ("slack", "dead"): 1,
        ("slack", "pending"): 1,
        ("email", "pending"): 1,
    }
    outbox.mark_delivered(conn, row.id, "w", "9.9", T0)  # only a pending row is marked delivered
    assert teams.outbox_id_for(conn, "C1", "9.9") is None


def test_key_prefixes_compare_bytewise(store_conn: Conn) -> None:
    conn = store_conn
    for key in ("mkto:I1:a", "mkto:I1:Z", "mkto:I10:b", "other"):
        store(conn, key)
    assert count_events(conn) == 4
    assert has_key_prefix(conn, "mkto:I1:") and has_key_prefix(conn, "mkto:I10")
    assert not has_key_prefix(conn, "mkto:I2") and not has_key_prefix(conn, "mkto:i1:")


def test_two_postgres_claims_never_take_one_row(pg_store_url: str) -> None:
    from notifbot.store import pg

    first, second = pg.connect(pg_store_url), pg.connect(pg_store_url)
    second.execute(
        "SET statement_timeout = '5s'"
    )  # without SKIP LOCKED it would wait on `first`: fail instead
    try:
        for table in ("outbox", "events"):
            first.execute(f"DELETE FROM {table}")
        store(first, "a", Target("ops", "slack", "C1"))
        store(first, "b", Target("ops", "slack", "C1"))
        with transaction(first):  # a claim in flight on another replica: its row is locked, and passed over
            mine = outbox.claim_next(first, "slack", "C1", "w1", T0, 30)
            theirs = outbox.claim_next(second, "slack", "C1", "w2", T0, 30)
            assert mine is not None and theirs is not None and mine.id != theirs.id
            assert outbox.claim_next(second, "slack", "C1", "w2", T0, 30) is None
    finally:
        first.close()
        second.close()


def test_dead_and_pending_rows_page_newest_event_first_by_keyset(store_conn: Conn) -> None:
    conn = store_conn
    for i in range(7):  # rows 2i+1 (slack) and 2i+2 (email) of event i+1
        store(conn, f"k{i}", Target("ops", "slack", "C1"), Target("mail", "email", "ops@x"))
    conn.execute("UPDATE outbox SET status = 'dead' WHERE id % 3 <> 0")
    claimed = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert claimed is not None and claimed.id == 3
    newest_first = [int(r[0]) for r in conn.execute("SELECT id FROM outbox ORDER BY event_id DESC, id DESC")]
    for listing, status in ((outbox.list_dead, "dead"), (outbox.list_pending, "pending")):
        seen: list[int] = []
        page = listing(conn, 2, None)
        while page:
            assert len(page) <= 2
            seen += [r.id for r in page]
            page = listing(conn, 2, page[-1].id)
        assert seen == [i for i in newest_first if (i % 3 == 0) == (status == "pending")], status
    pending = outbox.list_pending(conn)
    assert [(r.id, r.event_id, r.event_key, r.claimed) for r in pending] == [
        (12, 6, "k5", False),
        (9, 5, "k4", False),
        (6, 3, "k2", False),
        (3, 2, "k1", True),
    ]
    assert pending[0].next_attempt_at == T0 and pending[0].attempts == 0
    assert [(r.id, r.event_id, r.kind) for r in outbox.list_dead(conn, 2)] == [
        (14, 7, "audit"),
        (13, 7, "audit"),
    ]
    assert outbox.list_dead(conn, 10, before=10_000) == []  # a cursor row that is gone ends the list


def test_the_newer_page_of_open_rows_is_the_one_just_above_the_cursor(store_conn: Conn) -> None:
    conn = store_conn
    for i in range(5):  # rows 2i+1 (slack) and 2i+2 (email) of event i+1
        store(conn, f"k{i}", Target("ops", "slack", "C1"), Target("mail", "email", "ops@x"))
    conn.execute("UPDATE outbox SET status = 'dead'")
    newest_first = [int(r[0]) for r in conn.execute("SELECT id FROM outbox ORDER BY event_id DESC, id DESC")]
    for at in range(1, len(newest_first)):
        above = outbox.list_dead(conn, 3, after=newest_first[at])
        assert [r.id for r in above] == newest_first[max(0, at - 3) : at]  # still newest first
    assert [r.id for r in outbox.list_pending(conn, 3, after=newest_first[-1])] == []
    assert outbox.list_dead(conn, 3, after=10_000) == []  # a cursor row that is gone ends the list
    with pytest.raises(ListRequestError):
        outbox.list_dead(conn, 3, before=1, after=2)
