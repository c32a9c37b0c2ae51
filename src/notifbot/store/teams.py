"""Teams command plumbing in SQLite: Graph subscriptions (with their clientState) and the inbox of notifications."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store.conn import Conn


@dataclass(frozen=True)
class StoredSubscription:
    """A Graph subscription notifbot created; `client_state` is the secret Graph echoes in every notification."""

    id: str
    resource: str
    client_state: str
    expires_at: float


@dataclass(frozen=True)
class InboxRow:
    """One received change notification waiting to be read and answered."""

    id: int
    resource: str
    subscription_id: str
    attempts: int


def subscriptions(conn: Conn) -> list[StoredSubscription]:
    """Every stored subscription."""
    rows = conn.execute("SELECT id, resource, client_state, expires_at FROM teams_subscriptions").fetchall()
    return [StoredSubscription(*tuple(r)) for r in rows]


def save_subscription(conn: Conn, sub: StoredSubscription, now: float) -> None:
    """Records a new subscription, replacing any older one for the same resource."""
    conn.execute("DELETE FROM teams_subscriptions WHERE resource = ? OR id = ?", (sub.resource, sub.id))
    conn.execute(
        "INSERT INTO teams_subscriptions (id, resource, client_state, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
        (sub.id, sub.resource, sub.client_state, sub.expires_at, now),
    )


def renewed(conn: Conn, subscription_id: str, expires_at: float) -> None:
    """Records a subscription's new expiry."""
    conn.execute("UPDATE teams_subscriptions SET expires_at = ? WHERE id = ?", (expires_at, subscription_id))


def forget_subscription(conn: Conn, subscription_id: str) -> None:
    """Drops a subscription Graph no longer knows."""
    conn.execute("DELETE FROM teams_subscriptions WHERE id = ?", (subscription_id,))


def enqueue(conn: Conn, items: list[tuple[str, str]], now: float) -> int:
    """Queues (resource, subscription id) pairs; a notification Graph sends twice is queued once. Returns new rows."""
    added = 0
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        rows = conn.execute(
            "INSERT INTO teams_inbox (resource, subscription_id, next_attempt_at, received_at)"
            f" VALUES {','.join(['(?, ?, ?, ?)'] * len(chunk))} ON CONFLICT (resource) DO NOTHING RETURNING id",
            [v for resource, sub in chunk for v in (resource, sub, now, now)],
        ).fetchall()
        added += len(rows)
    return added


def due(conn: Conn, now: float, limit: int = 20) -> list[InboxRow]:
    """Pending rows whose time has come, oldest first."""
    rows = conn.execute(
        "SELECT id, resource, subscription_id, attempts FROM teams_inbox WHERE status = 'pending'"
        " AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        (now, limit),
    ).fetchall()
    return [InboxRow(*tuple(r)) for r in rows]


def finish(
    conn: Conn, row_id: int, status: str, reply_id: str | None = None, error: str | None = None
) -> None:
    """Closes a row: `answered`, `ignored` (not for the bot, or its own post) or `dead` (gave up)."""
    conn.execute(
        "UPDATE teams_inbox SET status = ?, reply_id = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?",
        (status, reply_id, error, row_id),
    )


def retry(conn: Conn, row_id: int, error: str, next_at: float) -> None:
    """Counts a failed attempt and schedules the next."""
    conn.execute(
        "UPDATE teams_inbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
        (error, next_at, row_id),
    )


def outbox_id_for(conn: Conn, target: str, message_id: str) -> int | None:
    """The outbox row that posted message `message_id` to `target` (to re-render and edit it)."""
    row = conn.execute(
        "SELECT id FROM outbox WHERE target = ? AND provider_message_id = ?", (target, message_id)
    ).fetchone()
    return int(row[0]) if row else None


def is_own_post(conn: Conn, target: str, message_id: str, reply_id: str | None) -> bool:
    """True when notifbot itself posted this alert (outbox) or this reply (inbox answer): no need to read it."""
    if reply_id is None:
        return outbox_id_for(conn, target, message_id) is not None
    row = conn.execute("SELECT 1 FROM teams_inbox WHERE reply_id = ?", (reply_id,)).fetchone()
    return row is not None
