"""Within a channel the outbox hands out the most severe due row first, oldest first among equals (real SQLite)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.db import connect, migrate, migrations
from notifbot.store.events import Target, insert_notifications

NOW = datetime(2026, 11, 29, tzinfo=UTC)
C1 = Target("ops", "slack", "C1")
C2 = Target("other", "slack", "C2")
T0 = 2e9  # after NOW, when the rows become due


def store(conn: Conn, *events: dict[str, Any], to: Target = C1) -> None:
    insert_notifications(conn, [(parse_event(e, now=NOW), [to]) for e in events])


def key_of(conn: Conn, row: outbox.OutboxRow | None) -> str:
    assert row is not None
    return str(conn.execute("SELECT key FROM events WHERE id = ?", (row.event_id,)).fetchone()[0])


def drain(conn: Conn, target: str = "C1", now: float = T0) -> list[str]:
    """Claims and delivers every due row of one channel, returning the event keys in claim order."""
    keys = []
    while (row := outbox.claim_next(conn, "slack", target, "w", now, 30)) is not None:
        keys.append(key_of(conn, row))
        outbox.mark_delivered(conn, row.id, "w", None, now)
    return keys


def test_most_severe_first_then_oldest(store_conn: Conn) -> None:
    conn = store_conn
    store(
        conn,
        {"kind": "audit", "id": "info-1"},
        {"kind": "campaign_failure", "id": "warn-1"},
        {"kind": "audit", "id": "info-2"},
        {"kind": "web_services", "id": "crit-1", "fields": {"used": 10, "quota": 10}},
        {"kind": "campaign_failure", "id": "warn-2"},
        {"kind": "crm_sync", "id": "crit-2"},
    )
    assert drain(conn) == ["crit-1", "crit-2", "warn-1", "warn-2", "info-1", "info-2"]


def test_the_severity_given_in_the_event_sets_the_priority(store_conn: Conn) -> None:
    conn = store_conn
    store(
        conn,
        {"kind": "campaign_failure", "id": "storm-1"},
        {"kind": "campaign_failure", "id": "storm-2"},
        {"kind": "campaign_failure", "id": "escalated", "severity": "critical"},
        {"kind": "web_services", "id": "quota-80", "fields": {"percent": 80}},  # refined down to warning
        {"kind": "crm_sync", "id": "quieted", "severity": "info"},
    )
    priorities = dict(
        conn.execute("SELECT e.key, o.priority FROM outbox o JOIN events e ON e.id = o.event_id")
    )
    assert priorities == {"storm-1": 1, "storm-2": 1, "escalated": 2, "quota-80": 1, "quieted": 0}
    assert drain(conn) == ["escalated", "storm-1", "storm-2", "quota-80", "quieted"]


def test_channels_are_ordered_independently(store_conn: Conn) -> None:
    conn = store_conn
    store(conn, *({"kind": "campaign_failure", "id": f"storm-{i}"} for i in range(3)))
    store(conn, {"kind": "audit", "id": "elsewhere"}, to=C2)
    store(conn, {"kind": "crm_sync", "id": "crit"})
    assert drain(conn, "C2") == ["elsewhere"]  # a critical row in C1 does not hold C2 back
    assert drain(conn) == ["crit", "storm-0", "storm-1", "storm-2"]


def test_a_critical_row_arriving_mid_storm_is_next(store_conn: Conn) -> None:
    conn = store_conn
    store(conn, *({"kind": "campaign_failure", "id": f"storm-{i}"} for i in range(100)))
    first = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)  # in flight when the critical one arrives
    assert key_of(conn, first) == "storm-0"
    store(conn, {"kind": "web_services", "id": "quota", "fields": {"used": 10, "quota": 10}})
    assert key_of(conn, outbox.claim_next(conn, "slack", "C1", "w", T0, 30)) == "quota"
    assert drain(conn)[:2] == ["storm-1", "storm-2"]


def test_priority_reorders_only_due_rows(store_conn: Conn) -> None:
    conn = store_conn
    store(conn, {"kind": "crm_sync", "id": "crit"}, {"kind": "audit", "id": "info-old"})
    crit = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert key_of(conn, crit) == "crit" and crit is not None
    outbox.mark_retry(conn, crit.id, "w", "503", T0 + 60)  # backing off: not due for a minute
    store(conn, {"kind": "campaign_failure", "id": "warn-new"})
    assert drain(conn, now=T0 + 1) == ["warn-new", "info-old"]  # nothing waits for a critical row's backoff
    assert drain(conn, now=T0 + 60) == ["crit"]


def test_a_retried_lower_row_goes_when_due_before_newer_equals(store_conn: Conn) -> None:
    conn = store_conn
    store(conn, {"kind": "campaign_failure", "id": "warn-old"})
    old = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert old is not None
    outbox.mark_retry(conn, old.id, "w", "timeout", T0 + 5, unsure_since=T0)
    store(conn, {"kind": "campaign_failure", "id": "warn-new"}, {"kind": "crm_sync", "id": "crit"})
    assert drain(conn, now=T0 + 1) == ["crit", "warn-new"]
    store(conn, {"kind": "campaign_failure", "id": "warn-newer"}, {"kind": "crm_sync", "id": "crit-2"})
    again = outbox.claim_next(conn, "slack", "C1", "w", T0 + 5, 30)
    assert key_of(conn, again) == "crit-2"
    retried = outbox.claim_next(conn, "slack", "C1", "w2", T0 + 5, 30)
    assert retried is not None and key_of(conn, retried) == "warn-old"
    assert (retried.attempts, retried.unsure_since) == (1, T0)  # retry state kept through the reorder


def test_a_leased_critical_row_is_not_handed_out_twice(store_conn: Conn) -> None:
    conn = store_conn
    store(conn, {"kind": "campaign_failure", "id": "warn"}, {"kind": "crm_sync", "id": "crit"})
    assert key_of(conn, outbox.claim_next(conn, "slack", "C1", "w1", T0, 30)) == "crit"
    assert key_of(conn, outbox.claim_next(conn, "slack", "C1", "w2", T0, 30)) == "warn"
    assert outbox.claim_next(conn, "slack", "C1", "w3", T0, 30) is None
    assert key_of(conn, outbox.claim_next(conn, "slack", "C1", "w3", T0 + 31, 30)) == "crit"  # lease ran out


def test_the_claim_is_one_ordered_seek_in_outbox_claim(tmp_path: Path) -> None:
    conn = connect(tmp_path / "n.db")  # SQLite's plan; PostgreSQL's claim is covered by the tests above
    store(conn, *({"kind": "audit", "id": f"e{i}"} for i in range(20)))
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    conn.set_trace_callback(None)
    [update] = [s for s in seen if s.lstrip().startswith("UPDATE outbox")]
    select = update[update.index("SELECT id FROM outbox") : update.index(") RETURNING")]
    plan = [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {select}")]
    assert plan == ["SEARCH outbox USING INDEX outbox_claim (dest_type=? AND target=? AND status=?)"], plan
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "outbox_claim" in indexes and "outbox_target" not in indexes  # the new index covers the old one


def test_the_migration_fills_open_rows_from_their_events_severity(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.row_factory = sqlite3.Row
    migrations.apply(sqlite_utils.Database(conn), stop_before="m012_outbox_priority")
    conn.executemany(
        "INSERT INTO events (id, key, kind, severity, occurred_at, received_at, fields, labels, source, routed_to)"
        " VALUES (?, ?, 'other', ?, '', '', '{}', '{}', 'events', '[]')",
        [(1, "info", "info"), (2, "warn", "warning"), (3, "crit", "critical"), (4, "done", "critical")],
    )
    conn.executemany(
        "INSERT INTO outbox (event_id, destination, dest_type, target, status, next_attempt_at, created_at)"
        " VALUES (?, 'ops', 'slack', 'C1', ?, 0, 0)",
        [(1, "pending"), (2, "pending"), (3, "dead"), (4, "delivered")],
    )
    assert migrate(conn)[:1] == ["m012_outbox_priority"]  # (and whatever migrations came after it)
    rows = conn.execute("SELECT event_id, priority FROM outbox ORDER BY event_id").fetchall()
    assert [tuple(r) for r in rows] == [(1, 0), (2, 1), (3, 2), (4, 0)]  # delivered history is left alone
    assert outbox.requeue(conn, 3, T0)
    assert [key_of(conn, outbox.claim_next(conn, "slack", "C1", "w", T0, 30)) for _ in range(3)] == [
        "crit",
        "warn",
        "info",
    ]
