"""The console's one write: Retry of a dead delivery, with the channel whose delivery it must wake."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.db import transaction


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
