"""Writes what the pollers observe: Marketo quota samples and per-poller state (cursor, last success/error)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from notifbot.central_time import central_date
from notifbot.store.conn import Conn


def insert_quota_sample(
    conn: Conn,
    instance: str,
    sampled_at: float,
    day: str,
    used: int,
    quota: int,
    users: Sequence[Mapping[str, Any]],
    errors: Mapping[str, int],
) -> int:
    """Stores one usage reading (users: [{userId, count}], errors: {code: count}); returns its row id."""
    row = conn.execute(
        "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users, errors)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            instance,
            sampled_at,
            day,
            used,
            quota,
            json.dumps([{"userId": str(u.get("userId")), "count": int(u.get("count") or 0)} for u in users]),
            json.dumps({str(k): int(v) for k, v in errors.items()}, sort_keys=True),
        ),
    ).fetchone()
    return int(row[0])


def day_samples(conn: Conn, instance: str, day: str) -> list[tuple[float, int]]:
    """(sampled_at, used) of an instance's samples on a US Central `day`, oldest first."""
    rows = conn.execute(
        "SELECT sampled_at, used FROM quota_samples WHERE instance = ? AND day = ? ORDER BY sampled_at",
        (instance, day),
    ).fetchall()
    return [(float(r[0]), int(r[1])) for r in rows]


def record_poll_success(conn: Conn, instance: str, poller: str, now: datetime, calls_today: int) -> None:
    """Marks a successful poll at `now` (aware) with the client's calls today; keeps the last error for history."""
    conn.execute(
        "INSERT INTO poller_state (instance, poller, last_success_at, day, calls_today) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (instance, poller) DO UPDATE SET last_success_at = excluded.last_success_at,"
        " day = excluded.day, calls_today = excluded.calls_today",
        (instance, poller, now.timestamp(), central_date(now).isoformat(), calls_today),
    )


def record_poll_error(
    conn: Conn,
    instance: str,
    poller: str,
    now: datetime,
    message: str,
    calls_today: int | None = None,
) -> None:
    """Records a failed poll at `now` (aware); never erases `last_success_at` (or the cursor)."""
    day = central_date(now).isoformat()
    conn.execute(
        "INSERT INTO poller_state (instance, poller, last_error, last_error_at, day, calls_today)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (instance, poller) DO UPDATE SET last_error = excluded.last_error,"
        " last_error_at = excluded.last_error_at,"
        " day = CASE WHEN CAST(? AS TEXT) IS NULL THEN poller_state.day ELSE excluded.day END,"
        " calls_today = CASE WHEN CAST(? AS TEXT) IS NULL THEN poller_state.calls_today ELSE excluded.calls_today END",
        (instance, poller, message[:2000], now.timestamp(), day, calls_today or 0, calls_today, calls_today),
    )


def poller_state(conn: Conn, instance: str, poller: str) -> dict[str, Any] | None:
    """The stored state of one poller as a dict, or None if it never ran."""
    row = conn.execute(
        "SELECT * FROM poller_state WHERE instance = ? AND poller = ?", (instance, poller)
    ).fetchone()
    return None if row is None else dict(row)


def calls_made_on(conn: Conn, instance: str, day: str) -> dict[str, int]:
    """{poller: calls} each poller of `instance` recorded on the Central day `day` (pollers name budget features)."""
    rows = conn.execute(
        "SELECT poller, calls_today FROM poller_state WHERE instance = ? AND day = ?", (instance, day)
    ).fetchall()
    return {str(r[0]): int(r[1] or 0) for r in rows}


def save_cursor(
    conn: Conn,
    instance: str,
    poller: str,
    cursor: str | None,
    now: datetime,
    calls_today: int | None = None,
) -> None:
    """Records a poller's position with a successful poll at `now`; `calls_today` None keeps the stored count."""
    conn.execute(
        "INSERT INTO poller_state (instance, poller, cursor, last_success_at, day, calls_today)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance, poller) DO UPDATE SET cursor = excluded.cursor,"
        " last_success_at = excluded.last_success_at, day = excluded.day,"
        " calls_today = CASE WHEN CAST(? AS TEXT) IS NULL THEN poller_state.calls_today"
        " ELSE excluded.calls_today END",
        (
            instance,
            poller,
            cursor,
            now.timestamp(),
            central_date(now).isoformat(),
            calls_today or 0,
            calls_today,
        ),
    )
