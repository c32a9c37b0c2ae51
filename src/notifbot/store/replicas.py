"""The replicas sharing this database: each beats while it runs and leaves on a clean stop (`/marketo status`)."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store.conn import Conn
from notifbot.store.leases import time_of


@dataclass(frozen=True)
class ReplicaRow:
    """One running (or lately running) notifbot process."""

    id: str
    host: str
    pid: int
    version: str
    started_at: float
    beat_at: float


def beat(
    conn: Conn,
    replica_id: str,
    host: str,
    pid: int,
    version: str,
    started_at: float | None = None,
    now: float | None = None,
) -> float:
    """Records that the replica is alive (its first beat registers it); returns the time recorded.

    `started_at` None: the first beat's time (kept by later beats); `now` None: the database's clock.
    """
    at = time_of(conn, now)
    conn.execute(
        "INSERT INTO replicas (id, host, pid, version, started_at, beat_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at, version = excluded.version",
        (replica_id, host, pid, version, at if started_at is None else started_at, at),
    )
    return at


def remove(conn: Conn, replica_id: str) -> None:
    """Forgets a replica (its clean stop)."""
    conn.execute("DELETE FROM replicas WHERE id = ?", (replica_id,))


def alive(conn: Conn, lease_seconds: float, now: float | None = None) -> list[ReplicaRow]:
    """Replicas that beat within the last two lease periods, oldest first."""
    at = time_of(conn, now)
    rows = conn.execute(
        "SELECT id, host, pid, version, started_at, beat_at FROM replicas WHERE beat_at >= ?"
        " ORDER BY started_at, id",
        (at - 2 * lease_seconds,),
    ).fetchall()
    return [ReplicaRow(r[0], r[1], int(r[2]), r[3], float(r[4]), float(r[5])) for r in rows]


def forget_dead(conn: Conn, older_than: float) -> int:
    """Deletes replicas whose last beat is older than `older_than` (killed ones never remove themselves)."""
    return conn.execute("DELETE FROM replicas WHERE beat_at < ?", (older_than,)).rowcount
