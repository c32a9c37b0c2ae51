"""Acknowledgements of posted alerts, keyed by the message Slack gave us (channel + ts)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from notifbot.model import Notification
from notifbot.store.events import get_event


@dataclass(frozen=True)
class AckResult:
    """Who acknowledged a message, whether this call did it, and the notification it carries."""

    first: bool
    acked_by: str
    acked_at: float
    notification: Notification


def acknowledge(conn: sqlite3.Connection, channel: str, ts: str, user: str, now: float) -> AckResult | None:
    """Records the first acknowledgement of a posted message; later clicks return the original one."""
    row = conn.execute(
        "SELECT id, event_id FROM outbox WHERE target = ? AND provider_message_id = ?", (channel, ts)
    ).fetchone()
    if row is None:
        return None
    cur = conn.execute(
        "UPDATE outbox SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL",
        (user, now, row["id"]),
    )
    current = conn.execute("SELECT acked_by, acked_at FROM outbox WHERE id = ?", (row["id"],)).fetchone()
    n = get_event(conn, row["event_id"])
    if n is None:
        return None
    return AckResult(cur.rowcount == 1, current["acked_by"], current["acked_at"], n)
