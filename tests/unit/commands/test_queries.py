"""The command queries stay index-backed: no statement reads whole events or outbox tables row by row."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from notifbot.commands import queries
from notifbot.sources.events import parse_event
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    c = connect(tmp_path / "n.db")
    items = [
        (
            parse_event({"kind": kind, "id": f"{kind}-{i}", "fields": {"n": i}}, now=NOW),
            [Target("ops", "slack", "C1")],
        )
        for i in range(30)
        for kind in ("audit", "crm_sync")
    ]
    insert_notifications(c, items)
    c.execute("UPDATE outbox SET status = 'delivered', delivered_at = 1 WHERE id % 3 = 0")
    c.execute("UPDATE outbox SET status = 'dead' WHERE id % 3 = 1")
    yield c
    c.close()


def statements(conn: sqlite3.Connection, fn: Callable[..., Any], *args: Any) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        fn(conn, *args)
    finally:
        conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def full_scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    plan = [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    bounded = "LIMIT" in sql.upper()  # newest-first by rowid, stopping after LIMIT rows
    by_kind = "kind = ?" in sql  # must seek the kind index, not filter a scan
    return [
        step
        for step in plan
        if (step.startswith("SCAN events") and "COVERING INDEX" not in step and (by_kind or not bounded))
        or (step.startswith("SCAN outbox") and not bounded)
    ]


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (queries.recent, (None, 50)),
        (queries.recent, ("crm_sync", 10)),
        (queries.status_counts, (NOW.timestamp(),)),
        (queries.quota_overview, (NOW.timestamp(),)),
    ],
)
def test_no_full_table_scans(conn: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    sqls = statements(conn, fn, *args)
    assert sqls
    for sql in sqls:
        assert full_scans(conn, sql) == [], sql


def test_results(conn: sqlite3.Connection) -> None:
    page = queries.recent(conn, "crm_sync", 5)
    assert page.total == 30 and [r.kind for r in page.rows] == ["crm_sync"] * 5
    assert [r.event_id for r in page.rows] == sorted((r.event_id for r in page.rows), reverse=True)
    counts = queries.status_counts(conn, NOW.timestamp())
    assert (counts.events, counts.pending, counts.dead) == (60, 20, 20)
    assert counts.last_delivered_at == 1.0
    # many channels: still counted right
    conn.executemany(
        "INSERT INTO outbox (event_id, destination, dest_type, target, status, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, 'pending', 0, 0)",
        [
            (
                1,
                f"d{i}",
                "console" if i % 2 else "slack",
                f"T{i}",
            )
            for i in range(300)
        ],
    )
    counts = queries.status_counts(conn, NOW.timestamp())
    assert (counts.pending, counts.dead) == (320, 20)
    assert counts.last_delivered_at == 1.0


def test_last_delivery_behind_a_long_backlog(conn: sqlite3.Connection) -> None:
    conn.execute(
        "UPDATE outbox SET delivered_at = 7 WHERE id = (SELECT max(id) FROM outbox WHERE status = 'delivered')"
    )
    conn.executemany(
        "INSERT INTO outbox (event_id, destination, dest_type, target, status, next_attempt_at, created_at)"
        " VALUES (?, ?, 'slack', 'C1', 'pending', 0, 0)",
        [(1, f"backlog-{i}") for i in range(5_000)],
    )
    counts = queries.status_counts(conn, NOW.timestamp())
    assert counts.last_delivered_at == 7.0 and counts.pending == 5_020


def test_last_delivery_when_a_critical_row_overtook_older_ones(tmp_path: Path) -> None:
    c = connect(tmp_path / "n.db")
    events = [{"kind": "campaign_failure", "id": f"s{i}"} for i in range(3)] + [
        {"kind": "crm_sync", "id": "crit"}
    ]
    insert_notifications(c, [(parse_event(e, now=NOW), [Target("ops", "slack", "C1")]) for e in events])
    # the critical row (newest id) went first, at 5; the older warning went after it, at 9
    c.execute("UPDATE outbox SET status = 'delivered', delivered_at = CASE priority WHEN 2 THEN 5 ELSE 9 END")
    assert queries.status_counts(c, NOW.timestamp()).last_delivered_at == 9.0
    c.close()
