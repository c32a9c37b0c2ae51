"""The events table: idempotent insert of notifications with their outbox rows, and reads."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from notifbot.digests import DigestRef
from notifbot.groups import GroupRef
from notifbot.model import Notification
from notifbot.store import digests, groups
from notifbot.store.conn import Conn
from notifbot.store.db import transaction
from notifbot.store.dialect import dialect_of, lock_keys
from notifbot.store.rows import notification_from_row


@dataclass(frozen=True)
class Target:
    """Where one outbox row goes: the destination's name, its type and its channel (or equivalent)."""

    destination: str
    dest_type: str
    target: str
    group: GroupRef | None = None  # set: the event joins this group's message instead of getting its own row
    digest: DigestRef | None = None  # set: the event joins its period's digest instead of getting its own row


@dataclass(frozen=True)
class Accepted:
    """The outcome of storing one notification."""

    key: str
    duplicate: bool
    event_id: int


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


_EVENT_COLUMNS = "key, kind, original_kind, severity, instance, occurred_at, received_at, summary, fields, labels, source, routed_to, status"
_ROW = "(" + ",".join("?" * 13) + ")"


@functools.lru_cache(maxsize=256)
def _names(destinations: tuple[str, ...]) -> str:
    return json.dumps(list(destinations))


def _event_params(n: Notification, targets: Sequence[Target]) -> tuple[object, ...]:
    return (
        n.key,
        n.kind.value,
        n.original_kind,
        n.severity.value,
        n.instance,
        _iso(n.occurred_at),
        _iso(n.received_at or datetime.now(UTC)),
        n.summary,
        json.dumps(n.fields, separators=(",", ":"), default=str) if n.fields else "{}",
        json.dumps(n.labels, separators=(",", ":")) if n.labels else "{}",
        n.source,
        _names(tuple(t.destination for t in targets)),
        n.status,
    )


def _join_keys(items: Sequence[tuple[Notification, Sequence[Target]]]) -> Iterator[str]:
    for _, targets in items:
        for t in targets:
            if t.digest is not None:
                yield digests.lock_key(t.digest.key_id)
            elif t.group is not None:
                yield groups.lock_key(t.group.key_id)


def insert_notifications(
    conn: Conn,
    items: Sequence[tuple[Notification, Sequence[Target]]],
    muted: Mapping[str, int] | None = None,
    *,
    now: float | None = None,
) -> list[Accepted]:
    """Stores each notification once (by key) with its outbox rows, in one transaction.

    `muted` maps a notification key to the mute that silenced it: it is stored (and listed) but gets no outbox rows.

    One multi-row INSERT for the events and one executemany for the outbox: per-statement overhead dominates
    SQLite's cost at ingest rates, so a batch costs two statements, not two per event.
    """
    now = time.time() if now is None else now
    out: list[Accepted] = []
    with transaction(conn):
        if dialect_of(conn).key_lock:
            # groups and digests read then write per key; locked up front in one order, so batches cannot deadlock
            lock_keys(conn, *_join_keys(items))
        new_ids: dict[str, int] = {}
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            params = [p for n, targets in chunk for p in _event_params(n, targets)]
            rows = conn.execute(
                f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES {','.join([_ROW] * len(chunk))}"
                " ON CONFLICT (key) DO NOTHING RETURNING key, id",
                params,
            ).fetchall()
            new_ids.update((r[0], int(r[1])) for r in rows)
        outbox_rows: list[tuple[object, ...]] = []
        joins: list[
            groups.Join
        ] = []  # joined together after the loop: a storm's events cost a few statements
        for n, targets in items:
            event_id = new_ids.pop(n.key, None)  # pop: a key repeated within the batch is new only once
            if event_id is None:
                row = conn.execute("SELECT id FROM events WHERE key = ?", (n.key,)).fetchone()
                out.append(Accepted(n.key, True, int(row[0])))
                continue
            mute_id = muted.get(n.key) if muted else None
            if mute_id is not None:
                conn.execute("UPDATE events SET muted_by = ? WHERE id = ?", (mute_id, event_id))
            else:
                for t in targets:
                    where = (t.destination, t.dest_type, t.target)
                    if t.digest is not None:
                        digests.join(conn, event_id, n.severity, t.digest, where, now)
                    elif t.group is not None:
                        joins.append(groups.Join(event_id, n.severity, t.group, where, n.resolved))
                    else:
                        outbox_rows.append((event_id, *where, n.severity.priority, now, now))
            out.append(Accepted(n.key, False, event_id))
        if joins:
            groups.join_many(conn, joins, now)
        conn.executemany(
            "INSERT INTO outbox (event_id, destination, dest_type, target, priority, next_attempt_at, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            outbox_rows,
        )
    return out


def get_event(conn: Conn, event_id: int) -> Notification | None:
    """The notification with this row id, if any."""
    row = conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
    return notification_from_row(row) if row else None


def count_events(conn: Conn) -> int:
    """How many notifications are stored."""
    return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def has_key_prefix(conn: Conn, prefix: str) -> bool:
    """True when some stored notification's key starts with `prefix` (a range seek in the key index)."""
    row = conn.execute(
        "SELECT 1 FROM events WHERE key >= ? AND key < ? LIMIT 1", (prefix, prefix + "\U0010ffff")
    ).fetchone()
    return row is not None
