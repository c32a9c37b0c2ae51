"""bench/retention.py on PostgreSQL: the fill (COPY), the sizes and the VACUUM the SQLite path does not need.

The fill: a fresh database migrated by the bot (`store/pg.migrate_pg`), one real event written there by
`store/events.insert_notifications` as the row template (then deleted), and the same generator as on SQLite (same
keys, times, kinds, one pending outbox row in 1,000) streamed with psycopg's `cursor.copy` (COPY … FROM STDIN, text
format) into events and outbox, `--chunk` rows per transaction with synchronous_commit off for the fill's session
only; the identity sequences are then moved past the ids written, and `VACUUM (ANALYZE)` stands for what autovacuum
would have done to a table grown over months (statistics, visibility map) before anything is measured.

Sizes: `pg_database_size(current_database())` and `pg_total_relation_size` of events + outbox (heap, indexes,
TOAST). PostgreSQL does not shrink its files when rows are deleted: after the prune the figures stay, and after
`VACUUM (ANALYZE)` (the store's `vacuum`, what `notifbot prune --vacuum` runs, online) the dead rows' space is free
for new rows in place: `free_after_vacuum_mib` is that free space as the free space map records it
(pg_freespacemap, when the server has the extension; VACUUM FULL or pg_repack would return it, offline).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.postgres import DEFAULT_ADMIN_URL, URL_ENV, admin_url, check_postgres, fresh_database

from notifbot.sources.events import parse_event
from notifbot.store.conn import Conn
from notifbot.store.db import transaction
from notifbot.store.events import Target, insert_notifications
from notifbot.store.pg import connect, migrate_pg
from notifbot.store.space import vacuum

MIB = 1024 * 1024
CHUNK = 50_000
TABLES = ("events", "outbox")

# Sets event `i`'s varying columns in `row` (all but key and times, which the fill sets first) and returns its outbox
# row's status; a shape sets every column it varies on every call, since `row` carries the previous event's values.
Shape = Callable[[int, dict[str, Any]], str]


def retention_shape(i: int, row: dict[str, Any]) -> str:
    """The retention bench's mix: one kind in four `campaign_failure`, the rest `audit`; one row in 1,000 pending."""
    row["kind"] = "campaign_failure" if i % 4 == 0 else "audit"
    return "pending" if i % 1000 == 999 else "delivered"


__all__ = [
    "DEFAULT_ADMIN_URL",
    "URL_ENV",
    "Shape",
    "admin_url",
    "check_postgres",
    "database",
    "fill",
    "retention_shape",
    "sizes",
    "vacuum_pruned",
]


@contextlib.contextmanager
def database(admin: str) -> Iterator[str]:
    """A fresh database migrated to the bot's schema (its URL), dropped on exit."""
    with fresh_database(admin) as url:
        conn = connect(url)
        try:
            migrate_pg(conn)
        finally:
            conn.close()
        yield url


def template_row(conn: Conn, target: Target) -> dict[str, Any]:
    """One event row as the store writes it on either backend (all columns but id), its rows deleted again."""
    n = parse_event(
        {
            "kind": "audit",
            "id": "t",
            "summary": "Smart campaign changed by an admin",
            "fields": {"user": "a@b.c"},
        },
        now=datetime.now(UTC),
    )
    insert_notifications(conn, [(n, [target])])
    row = conn.execute("SELECT * FROM events").fetchone()
    values = dict(zip(row.keys(), row, strict=True))  # a Row is a tuple: iterating it gives values
    del values["id"]
    with transaction(conn):
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM events")
    return values


def fill(
    url: str,
    events: int,
    span_days: float,
    target: Target,
    chunk: int = CHUNK,
    shape: Shape = retention_shape,
) -> float:
    """Writes `events` events (oldest first) with their outbox rows by COPY; returns the seconds it took."""
    started = time.perf_counter()
    conn = connect(url)
    try:
        row = template_row(conn, target)
        columns = list(row)
        conn.execute("SET synchronous_commit = off")
        now = datetime.now(UTC)
        step = timedelta(days=span_days) / max(events, 1)
        first = now - timedelta(days=span_days)
        next_id = 1 + int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
        raw = conn.raw
        events_copy = f"COPY events (id, {', '.join(columns)}) FROM STDIN"
        outbox_copy = (
            "COPY outbox (event_id, destination, dest_type, target, status, next_attempt_at, created_at,"
            " delivered_at) FROM STDIN"
        )
        for start in range(0, events, chunk):
            end = min(start + chunk, events)
            statuses = []
            with transaction(conn), raw.cursor() as cur:
                with cur.copy(events_copy) as copy:
                    for i in range(start, end):
                        at = (first + step * i).isoformat()
                        row.update(key=f"bench-{i}", received_at=at, occurred_at=at)
                        statuses.append(shape(i, row))
                        copy.write_row((next_id + i, *(row[c] for c in columns)))
                with cur.copy(outbox_copy) as copy:
                    for i, status in zip(range(start, end), statuses, strict=True):
                        ts = (first + step * i).timestamp()
                        copy.write_row(
                            (
                                next_id + i,
                                target.destination,
                                target.dest_type,
                                target.target,
                                status,
                                ts,
                                ts,
                                ts if status == "delivered" else None,
                            )
                        )
        for table in TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.execute("SET synchronous_commit = on")
        vacuum(conn, TABLES)
    finally:
        conn.close()
    return time.perf_counter() - started


def sizes(url: str) -> dict[str, float]:
    """The database's size and that of events + outbox with their indexes, in MiB."""
    conn = connect(url)
    try:
        row = conn.execute(
            "SELECT pg_database_size(current_database()),"
            " pg_total_relation_size('events') + pg_total_relation_size('outbox')"
        ).fetchone()
        return {"database_mib": round(int(row[0]) / MIB, 1), "events_outbox_mib": round(int(row[1]) / MIB, 1)}
    finally:
        conn.close()


def vacuum_pruned(url: str) -> dict[str, float]:
    """`VACUUM (ANALYZE)` of the pruned tables (the store's `vacuum`); its time, the sizes, and the free space."""
    conn = connect(url)
    try:
        started = time.perf_counter()
        vacuum(conn, TABLES)
        out: dict[str, float] = {"vacuum_seconds": round(time.perf_counter() - started, 1)}
        has_fsm = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_freespacemap'"
        ).fetchone()
        if has_fsm:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_freespacemap")
            free = 0
            for table in TABLES:  # the heaps; freed index pages are recycled by the indexes themselves
                free += int(
                    conn.execute(f"SELECT coalesce(sum(avail), 0) FROM pg_freespace('{table}')").fetchone()[0]
                )
            out["free_after_vacuum_mib"] = round(free / MIB, 1)
    finally:
        conn.close()
    return {**out, **sizes(url)}
