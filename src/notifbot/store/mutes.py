"""The mutes table: silence a kind until a time, with who did it and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from notifbot.model import Mute
from notifbot.store.conn import Conn, Row
from notifbot.store.db import transaction
from notifbot.store.dialect import lock_keys


def _mute(r: Row) -> Mute:
    return Mute(
        id=r["id"],
        kind=r["kind"],
        until=datetime.fromtimestamp(r["until"], UTC),
        author=r["author"],
        reason=r["reason"],
        created_at=datetime.fromtimestamp(r["created_at"], UTC),
        matchers=tuple((k, v) for k, v in json.loads(r["matchers"] or "[]")),
    )


def lock_key(kind: str, matchers: tuple[tuple[str, str], ...] = ()) -> str:
    """The text key `add_mute` locks a mute scope by (dialect.lock_keys)."""
    return json.dumps(["mute", kind, [list(m) for m in matchers]])


def add_mute(
    conn: Conn,
    kind: str,
    until: datetime,
    author: str,
    reason: str | None,
    now: datetime,
    matchers: tuple[tuple[str, str], ...] = (),
) -> Mute:
    """Creates a mute; an earlier active mute of the same kind and matchers is replaced (ended by the same author)."""
    scope = json.dumps([list(m) for m in matchers]) if matchers else None
    with transaction(conn):
        lock_keys(conn, lock_key(kind, matchers))  # one active mute per scope, however many replicas
        conn.execute(
            "UPDATE mutes SET ended_at = ?, ended_by = ? WHERE kind = ? AND matchers IS NOT DISTINCT FROM ?"
            " AND ended_at IS NULL AND until > ?",
            (now.timestamp(), author, kind, scope, now.timestamp()),
        )
        row = conn.execute(
            "INSERT INTO mutes (kind, until, author, reason, created_at, matchers) VALUES (?,?,?,?,?,?) RETURNING *",
            (kind, until.timestamp(), author, reason, now.timestamp(), scope),
        ).fetchone()
    return _mute(row)


def end_mutes(conn: Conn, kind: str, author: str, now: datetime) -> int:
    """Ends the active mutes of `kind`; returns how many there were."""
    cur = conn.execute(
        "UPDATE mutes SET ended_at = ?, ended_by = ?, until = LEAST(until, ?)"
        " WHERE kind = ? AND ended_at IS NULL AND until > ?",
        (now.timestamp(), author, now.timestamp(), kind, now.timestamp()),
    )
    return cur.rowcount


def end_scoped_mutes(
    conn: Conn, kind: str, matchers: tuple[tuple[str, str], ...], author: str, now: datetime
) -> int:
    """Ends the active mutes of exactly this kind and these matchers (in any order); returns how many there were."""
    wanted = sorted(matchers)
    with transaction(conn):
        rows = conn.execute(
            "SELECT id, matchers FROM mutes WHERE kind = ? AND ended_at IS NULL AND until > ?",
            (kind, now.timestamp()),
        ).fetchall()
        ids = [
            r["id"] for r in rows if sorted((k, v) for k, v in json.loads(r["matchers"] or "[]")) == wanted
        ]
        for mute_id in ids:
            conn.execute(
                "UPDATE mutes SET ended_at = ?, ended_by = ?, until = LEAST(until, ?) WHERE id = ?",
                (now.timestamp(), author, now.timestamp(), mute_id),
            )
    return len(ids)


def active_mutes(conn: Conn, now: datetime) -> list[Mute]:
    """Mutes in force at `now`, soonest expiry first; expired ones simply stop matching."""
    rows = conn.execute(
        "SELECT * FROM mutes WHERE ended_at IS NULL AND until > ? ORDER BY until", (now.timestamp(),)
    ).fetchall()
    return [_mute(r) for r in rows]
