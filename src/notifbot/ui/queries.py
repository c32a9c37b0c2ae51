"""The console's own store reads and its one write, until store/outbox.py has them (keyset paging, step 4)."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.db import transaction


@dataclass(frozen=True)
class PendingRow:
    """A delivery still to be made (or retried), with its event."""

    id: int
    destination: str
    target: str
    attempts: int
    last_error: str | None
    next_attempt_at: float
    event_key: str
    kind: str
    received_at: str


def list_pending(conn: Conn, limit: int = 100) -> list[PendingRow]:
    """Pending rows, newest first (the IN term lets SQLite use the partial index of open rows)."""
    rows = conn.execute(
        "SELECT o.id, o.destination, o.target, o.attempts, o.last_error, o.next_attempt_at, e.key, e.kind,"
        " e.received_at FROM outbox o JOIN events e ON e.id = o.event_id"
        " WHERE o.status IN ('pending', 'dead') AND o.status = 'pending' ORDER BY o.id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [PendingRow(*tuple(r)) for r in rows]


@dataclass(frozen=True)
class Requeued:
    """A dead row put back in the queue, and the channel whose worker should look now."""

    id: int
    destination: str
    dest_type: str
    target: str


def requeue_dead(conn: Conn, row_id: int, now: float) -> Requeued | None:
    """Requeues one dead row as `notifbot outbox retry` does (`outbox.requeue`); None when no dead row has this id."""
    with transaction(conn):
        row = conn.execute(
            "SELECT destination, dest_type, target FROM outbox WHERE id = ? AND status = 'dead'", (row_id,)
        ).fetchone()
        if row is None or not outbox.requeue(conn, row_id, now):
            return None
        return Requeued(row_id, str(row[0]), str(row[1]), str(row[2]))
