"""Retention on a real store, SQLite and PostgreSQL: what a run deletes, what it keeps, in batches, the dry run's
counts, and what each backend does with the space freed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifbot.digests import DigestPolicy, DigestRef
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store import pg
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from notifbot.store.maintenance import prune_all
from notifbot.store.retention import (
    TABLES,
    Pruning,
    Windows,
    reclaim_space,
    space,
    vacuum_to_incremental,
    would_prune,
)
from tests.pg_support import empty_store

NOW = datetime(2026, 12, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=10)
W = Windows(days=90, quota_sample_days=30, activity_days=400, inbox_days=30, batch=50)
PLAIN = Target("ops", "slack", "C1")
OTHER = Target("crm", "slack", "C2")
GROUP = GroupRef(
    "g1",
    "kind=campaign_failure",
    GroupPolicy(("kind",), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4)),
)
DIGEST = DigestRef("d1", "kind=crm_sync", DigestPolicy(timedelta(hours=1), time(0, 0), "UTC"))


def accept(
    conn: sqlite3.Connection, key: str, at: datetime, *targets: Target, muted: int | None = None
) -> int:
    """Stores one event received at `at` with outbox rows (or group / digest membership) for `targets`."""
    n = parse_event({"kind": "campaign_failure", "id": key, "fields": {"campaign_id": 1}}, now=at)
    (done,) = insert_notifications(
        conn, [(n, targets or (PLAIN,))], {n.key: muted} if muted else None, now=at.timestamp()
    )
    return done.event_id


def finish(conn: sqlite3.Connection, event_id: int | None = None, status: str = "delivered") -> None:
    """Marks outbox rows (of one event, or all) as the worker would once done with them."""
    where, args = ("WHERE event_id = ?", (event_id,)) if event_id is not None else ("", ())
    conn.execute(f"UPDATE outbox SET status = '{status}' {where}", args)


def ids(conn: sqlite3.Connection, table: str = "events") -> set[int]:
    return {int(r[0]) for r in conn.execute(f"SELECT id FROM {table}")}


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def run(conn: sqlite3.Connection, windows: Windows = W) -> dict[str, int]:
    return prune_all(conn, windows, now=NOW.timestamp())


def test_old_finished_events_go_with_their_outbox_rows_and_everything_else_stays(store_conn: Any) -> None:
    conn = store_conn
    delivered = accept(conn, "delivered", OLD)
    dead = accept(conn, "dead", OLD)
    pending = accept(conn, "pending", OLD)
    half = accept(conn, "half", OLD, PLAIN, OTHER)
    young = accept(conn, "young", RECENT)
    mute = conn.execute(
        "INSERT INTO mutes (kind, until, author, created_at) VALUES ('campaign_failure', 1, 'U1', 1) RETURNING id"
    ).fetchone()[0]
    muted = accept(conn, "muted", OLD, muted=mute)  # stored, never sent: no outbox row
    finish(conn)
    finish(conn, dead, "dead")
    conn.execute("UPDATE outbox SET status = 'pending' WHERE event_id = ?", (pending,))
    conn.execute("UPDATE outbox SET status = 'pending' WHERE event_id = ? AND target = 'C2'", (half,))

    assert run(conn) == {"outbox": 2, "events": 3}
    assert ids(conn) == {pending, half, young}
    assert {r[0] for r in conn.execute("SELECT event_id FROM outbox")} == {pending, half, young}
    assert delivered not in ids(conn) and muted not in ids(conn)
    assert ids(conn, "mutes") == {mute}  # a mute stays: `/marketo mutes` history is not events'
    assert run(conn) == {}


def test_an_open_group_keeps_its_events_and_a_finished_closed_one_goes_with_its_members(
    store_conn: Any,
) -> None:
    conn = store_conn
    members = [
        accept(conn, f"g{i}", OLD + timedelta(seconds=i), Target("ops", "slack", "C1", GROUP))
        for i in range(3)
    ]
    finish(conn)
    assert run(conn) == {}  # open: its message may still be edited with every member
    assert ids(conn) == set(members)

    conn.execute("UPDATE alert_groups SET closed = 1")
    conn.execute("UPDATE outbox SET status = 'pending'")  # closed, but its last update is still to be sent
    assert run(conn) == {}

    finish(conn)
    assert run(conn) == {"alert_group_events": 3, "alert_groups": 1, "outbox": 1, "events": 3}
    assert counts(conn)["events"] == 0


def test_a_digest_not_yet_posted_keeps_its_events_and_a_posted_one_goes(store_conn: Any) -> None:
    conn = store_conn
    first = accept(conn, "d0", OLD, Target("crm", "slack", "C2", digest=DIGEST))
    accept(conn, "d1", OLD + timedelta(minutes=1), Target("crm", "slack", "C2", digest=DIGEST))
    assert run(conn) == {}  # neither sealed nor sent

    conn.execute("UPDATE digests SET sealed = 1")
    assert run(conn) == {}  # sealed, its row still pending
    finish(conn)
    assert run(conn) == {"digest_events": 2, "digests": 1, "outbox": 1, "events": 2}
    assert first not in ids(conn)


def test_young_groups_and_digests_stay_however_finished(store_conn: Any) -> None:
    conn = store_conn
    accept(conn, "g", RECENT, Target("ops", "slack", "C1", GROUP))
    accept(conn, "d", RECENT, Target("crm", "slack", "C2", digest=DIGEST))
    conn.execute("UPDATE alert_groups SET closed = 1")
    conn.execute("UPDATE digests SET sealed = 1")
    finish(conn)
    assert run(conn) == {}


def test_no_batch_deletes_more_rows_of_a_table_than_the_batch_size(store_conn: Any) -> None:
    conn = store_conn
    big = Target("ops", "slack", "C1", GROUP)
    n = parse_event({"kind": "campaign_failure", "id": "x"}, now=OLD)
    storm = [
        parse_event({"kind": "campaign_failure", "id": f"s{i}", "fields": {"campaign_id": i}}, now=OLD)
        for i in range(130)
    ]
    insert_notifications(conn, [(e, [big]) for e in storm], now=OLD.timestamp())
    insert_notifications(conn, [(n, [PLAIN])], now=OLD.timestamp())
    plain = [
        parse_event({"kind": "campaign_failure", "id": f"p{i}", "fields": {"campaign_id": i}}, now=OLD)
        for i in range(170)
    ]
    insert_notifications(conn, [(e, [PLAIN]) for e in plain], now=OLD.timestamp())
    conn.execute("UPDATE alert_groups SET closed = 1")
    finish(conn)

    pruning = Pruning(W, NOW.timestamp())
    steps = []
    while (done := pruning.step(conn)) is not None:
        steps.append(done)
    assert all(n <= W.batch for step in steps for n in step.values())
    assert [s.get("alert_group_events") for s in steps[:3]] == [50, 50, 30]  # the storm's members, in slices
    assert pruning.total == {
        "alert_group_events": 130,
        "alert_groups": 1,
        "outbox": 172,
        "events": 301,
    }
    assert counts(conn)["events"] == 0


def test_the_event_walk_never_stalls_on_kept_rows(store_conn: Any) -> None:
    conn = store_conn
    for i in range(120):  # old but pending: kept, in front of the ones that go
        accept(conn, f"k{i}", OLD)
    finish(conn)
    conn.execute("UPDATE outbox SET status = 'pending'")
    gone = [accept(conn, f"g{i}", OLD) for i in range(30)]
    finish(conn, gone[0])
    conn.execute("UPDATE outbox SET status = 'delivered' WHERE event_id >= ?", (gone[0],))
    assert run(conn) == {"outbox": 30, "events": 30}
    assert len(ids(conn)) == 120


def test_a_dry_run_counts_exactly_what_a_run_deletes_and_changes_nothing(store_conn: Any) -> None:
    conn = store_conn
    for i in range(4):
        accept(conn, f"g{i}", OLD + timedelta(seconds=i), Target("ops", "slack", "C1", GROUP))
    for i in range(3):
        accept(conn, f"d{i}", OLD + timedelta(seconds=i), Target("crm", "slack", "C2", digest=DIGEST))
    for i in range(60):
        accept(conn, f"p{i}", OLD if i % 3 else RECENT)
    conn.execute("UPDATE alert_groups SET closed = 1")
    conn.execute("UPDATE digests SET sealed = 1")
    finish(conn)
    conn.execute(
        "INSERT INTO quota_samples (instance, sampled_at, day, used, quota) VALUES ('i', 1, 'd', 1, 9)"
    )
    before = counts(conn)

    expected = would_prune(conn, W, NOW.timestamp())
    assert counts(conn) == before
    assert expected == run(conn)
    assert expected["events"] == 4 + 3 + 40 and expected["quota_samples"] == 1


def test_marketo_state_and_the_teams_inbox_go_by_their_own_windows(store_conn: Any) -> None:
    conn = store_conn
    now = NOW.timestamp()
    day = 86400.0
    conn.executemany(
        "INSERT INTO quota_samples (instance, sampled_at, day, used, quota) VALUES ('i', ?, 'd', 1, 9)",
        [(now - 31 * day,), (now - 29 * day,)],
    )
    conn.executemany(
        "INSERT INTO trigger_campaigns (instance, campaign_id, name, is_active, observed_since, updated_at)"
        " VALUES ('i', ?, 'c', ?, '2020-01-01T00:00:00Z', ?)",
        [(1, 0, now - 401 * day), (2, 1, now - 401 * day), (3, 0, now - 10 * day)],
    )
    conn.executemany(
        "INSERT INTO campaign_activity (instance, campaign_id, last_activity_at) VALUES ('i', ?, ?)",
        [(2, "2025-01-01T00:00:00Z"), (7, "2025-01-01T00:00:00Z"), (8, "2026-11-01T00:00:00Z")],
    )
    conn.executemany(
        "INSERT INTO teams_inbox (resource, subscription_id, status, next_attempt_at, received_at)"
        " VALUES (?, 's', ?, 0, ?)",
        [("a", "done", now - 31 * day), ("b", "pending", now - 31 * day), ("c", "done", now - 1 * day)],
    )
    assert run(conn) == {"quota_samples": 1, "trigger_campaigns": 1, "campaign_activity": 1, "teams_inbox": 1}
    assert [r[0] for r in conn.execute("SELECT campaign_id FROM trigger_campaigns ORDER BY 1")] == [2, 3]
    assert [r[0] for r in conn.execute("SELECT campaign_id FROM campaign_activity ORDER BY 1")] == [2, 8]
    assert [r[0] for r in conn.execute("SELECT resource FROM teams_inbox ORDER BY 1")] == ["b", "c"]


def test_a_new_sqlite_database_returns_pruned_space_to_the_filesystem(tmp_path: Path) -> None:
    conn = connect(tmp_path / "n.db")
    assert space(conn).incremental
    events = [
        parse_event({"kind": "campaign_failure", "id": f"e{i}", "summary": "x" * 500}, now=OLD)
        for i in range(2000)
    ]
    insert_notifications(conn, [(e, [PLAIN]) for e in events], now=OLD.timestamp())
    finish(conn)
    full = space(conn)
    assert run(conn)["events"] == 2000
    after = space(conn)
    assert after.free == 0 and after.pages < full.pages // 3


def test_an_existing_sqlite_database_is_switched_to_incremental_by_a_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()  # made before auto_vacuum was set
    conn = connect(path)
    assert not space(conn).incremental
    vacuum_to_incremental(conn)
    assert space(conn).incremental


@pytest.fixture
def pg_conn(pg_store_url: str) -> Iterator[Any]:
    empty_store(pg_store_url)
    conn = pg.connect(pg_store_url)
    yield conn
    conn.close()


def test_postgresql_leaves_space_to_autovacuum_and_vacuums_the_pruned_tables_online(pg_conn: Any) -> None:
    store_conn = pg_conn
    accept(store_conn, "e", OLD)
    finish(store_conn)
    before = space(store_conn)
    assert before.incremental and before.free == 0 and before.bytes > 0
    assert run(store_conn) == {"outbox": 1, "events": 1}
    assert reclaim_space(store_conn) == 0  # autovacuum makes the space reusable; nothing is returned per run
    vacuum_to_incremental(
        store_conn
    )  # VACUUM (ANALYZE): outside any transaction, the connection is in autocommit
    store_conn.execute("SELECT pg_stat_force_next_flush()")
    vacuumed = store_conn.execute(
        "SELECT count(*) FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
        " AND relname IN ('events', 'outbox', 'alert_groups', 'teams_inbox')"
    ).fetchone()[0]
    assert vacuumed == 4
