"""Leases that let several replicas share one database: one drains a channel at a time, one runs each poller.

A lease is a row naming its holder and the time it ends. Taking and renewing are one upsert that succeeds only when
the row is free, expired or already this holder's (`RETURNING` says whether it did), so two replicas racing for one
lease cannot both win on either backend. `now=None` reads the database's clock (`db_time`): on PostgreSQL every
replica then measures leases with the one server clock, and clock skew between replica hosts never decides who
holds what. Tests pass their own `now` on both backends.
"""

from __future__ import annotations

import time

from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.dialect import SQLITE, dialect_of

Channel = tuple[str, str]  # (dest_type, target)


def db_time(conn: Conn) -> float:
    """The database's clock in epoch seconds; on SQLite (one process, one clock) this process's."""
    if dialect_of(conn) is SQLITE:
        return time.time()
    return float(conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()[0])


def time_of(conn: Conn, now: float | None) -> float:
    """`now` when a caller gives one (tests), else the database's clock (`db_time`)."""
    return db_time(conn) if now is None else now


def take_channel(
    conn: Conn,
    dest_type: str,
    target: str,
    holder: str,
    seconds: float,
    now: float | None = None,
) -> bool:
    """Takes or renews the lease on one channel for `seconds`; False while another holder's lease runs."""
    at = time_of(conn, now)
    row = conn.execute(
        "INSERT INTO channel_leases (dest_type, target, holder, lease_until) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (dest_type, target) DO UPDATE SET holder = excluded.holder,"
        " lease_until = excluded.lease_until"
        " WHERE channel_leases.holder = excluded.holder OR channel_leases.lease_until < ?"
        " RETURNING holder",
        (dest_type, target, holder, at + seconds, at),
    ).fetchone()
    return row is not None


def release_channel(conn: Conn, dest_type: str, target: str, holder: str) -> None:
    """Gives a channel up (nothing left to send there); a lease another holder took meanwhile stays."""
    conn.execute(
        "DELETE FROM channel_leases WHERE dest_type = ? AND target = ? AND holder = ?",
        (dest_type, target, holder),
    )


def channel_holders(conn: Conn, now: float | None = None) -> dict[Channel, str]:
    """The channels whose lease runs now, with their holders."""
    rows = conn.execute(
        "SELECT dest_type, target, holder FROM channel_leases WHERE lease_until >= ?", (time_of(conn, now),)
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def due_free_targets(conn: Conn, now: float, holder: str, lease_now: float | None = None) -> list[Channel]:
    """`outbox.due_targets` without the channels another replica drains now (it sends those rows itself).

    `now` is the outbox's clock (the worker's), `lease_now` the leases' (None: the database's).
    """
    held = channel_holders(conn, lease_now)
    return [c for c in outbox.due_targets(conn, now) if held.get(c, holder) == holder]


def take_poller(conn: Conn, name: str, holder: str, seconds: float, now: float | None = None) -> bool:
    """Takes or renews the lease on one poller for `seconds`; False while another holder's lease runs.

    `taken_at` says since when the holder has held it (kept on renewal), `beat_at` its last renewal.
    """
    at = time_of(conn, now)
    row = conn.execute(
        "INSERT INTO poller_leases (name, holder, lease_until, taken_at, beat_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until,"
        " taken_at = CASE WHEN poller_leases.holder = excluded.holder THEN poller_leases.taken_at"
        " ELSE excluded.taken_at END, beat_at = excluded.beat_at"
        " WHERE poller_leases.holder = excluded.holder OR poller_leases.lease_until < ?"
        " RETURNING holder",
        (name, holder, at + seconds, at, at, at),
    ).fetchone()
    return row is not None


def renew_pollers(
    conn: Conn, names: list[str], holder: str, seconds: float, now: float | None = None
) -> set[str]:
    """Renews the given pollers' leases held by `holder`; returns the ones it still holds."""
    at = time_of(conn, now)
    return {n for n in names if take_poller(conn, n, holder, seconds, at)}


def release_poller(conn: Conn, name: str, holder: str) -> None:
    """Gives a poller up (clean stop): a standby takes it at its next try instead of after the lease ends."""
    conn.execute("DELETE FROM poller_leases WHERE name = ? AND holder = ?", (name, holder))


def release_all(conn: Conn, holder: str) -> None:
    """Gives up every lease `holder` has, channels and pollers (a replica's clean stop)."""
    conn.execute("DELETE FROM poller_leases WHERE holder = ?", (holder,))
    conn.execute("DELETE FROM channel_leases WHERE holder = ?", (holder,))


def void_others_on_sqlite(conn: Conn, holder: str) -> None:
    """SQLite: one process owns the file, so another holder's leases are an earlier, killed process's: void.

    Without this a restart after a crash would wait up to a lease period before polling or draining again.
    On PostgreSQL (several replicas) it does nothing.
    """
    if dialect_of(conn) is not SQLITE:
        return
    conn.execute("DELETE FROM poller_leases WHERE holder <> ?", (holder,))
    conn.execute("DELETE FROM channel_leases WHERE holder <> ?", (holder,))


def poller_holders(conn: Conn, now: float | None = None) -> dict[str, str]:
    """The pollers whose lease runs now, with their holders."""
    rows = conn.execute(
        "SELECT name, holder FROM poller_leases WHERE lease_until >= ? ORDER BY name", (time_of(conn, now),)
    ).fetchall()
    return {r[0]: r[1] for r in rows}
