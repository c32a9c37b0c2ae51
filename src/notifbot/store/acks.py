"""Acknowledgements of posted alerts, keyed by the message Slack gave us (channel + ts)."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.model import Notification
from notifbot.store.conn import Conn
from notifbot.store.events import get_event
from notifbot.store.groups import acknowledge_group


@dataclass(frozen=True)
class AckResult:
    """Who acknowledged a message, whether this call (or an earlier try of the same ack) did it, and the alert."""

    first: bool
    acked_by: str
    acked_at: float
    notification: Notification
    group_id: int | None = None  # the message is an alert group's: the worker edits it (and reminders stop)


def acknowledge(
    conn: Conn, channel: str, ts: str, user: str, now: float, via: str | None = None
) -> AckResult | None:
    """Records the first acknowledgement of a posted message; later acks return the original one.

    `via` names what acknowledged (e.g. the Teams reply saying `ack`): the same `via` again is a retry of that
    ack, not a second one, so it is answered as the first (its edit and reply may not have gone through).
    """
    row = conn.execute(
        "SELECT id, event_id, group_id FROM outbox WHERE target = ? AND provider_message_id = ?",
        (channel, ts),
    ).fetchone()
    if row is None:
        return None
    cur = conn.execute(
        "UPDATE outbox SET acked_by = ?, acked_at = ?, acked_via = ? WHERE id = ? AND acked_by IS NULL",
        (user, now, via, row["id"]),
    )
    current = conn.execute(
        "SELECT acked_by, acked_at, acked_via FROM outbox WHERE id = ?", (row["id"],)
    ).fetchone()
    n = get_event(conn, row["event_id"])
    if n is None:
        return None
    first = cur.rowcount == 1 or (via is not None and current["acked_via"] == via)
    group_id = row["group_id"]
    if group_id is not None and cur.rowcount == 1:
        acknowledge_group(conn, group_id, now)
    return AckResult(first, current["acked_by"], current["acked_at"], n, group_id)
