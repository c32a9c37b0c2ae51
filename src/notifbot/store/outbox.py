"""The outbox table: claims as leases, acknowledgements, retries, dead rows; one statement per state change."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store.conn import Conn, Row
from notifbot.store.dialect import dialect_of
from notifbot.store.event_list import ListRequestError


@dataclass(frozen=True)
class OutboxRow:
    """One pending delivery of one event to one destination."""

    id: int
    event_id: int
    destination: str
    dest_type: str
    target: str
    attempts: int
    provider_message_id: str | None
    created_at: float
    # when the first attempt that may have reached the destination began (a timeout, a lost answer, a claim that
    # ended without an outcome); None when every earlier attempt certainly failed. The retry looks before posting.
    unsure_since: float | None = None
    group_id: int | None = (
        None  # set: this row delivers an alert group's message (store/groups.py), not one event
    )
    digest_id: int | None = None  # set: this row delivers a digest's one summary message (store/digests.py)


_COLUMNS = (
    "id, event_id, destination, dest_type, target, attempts, provider_message_id, created_at, unsure_since,"
    " group_id, digest_id"
)


def _row(r: Row) -> OutboxRow:
    return OutboxRow(
        r["id"],
        r["event_id"],
        r["destination"],
        r["dest_type"],
        r["target"],
        r["attempts"],
        r["provider_message_id"],
        r["created_at"],
        r["unsure_since"],
        r["group_id"],
        r["digest_id"],
    )


def due_targets(conn: Conn, now: float) -> list[tuple[str, str]]:
    """(dest_type, target) pairs that have a row ready to send."""
    rows = conn.execute(
        # the IN term lets SQLite use the partial index of open rows instead of scanning all history
        "SELECT DISTINCT dest_type, target FROM outbox WHERE status IN ('pending', 'dead') AND status = 'pending'"
        " AND next_attempt_at <= ?"
        " AND (lease_until IS NULL OR lease_until < ?)",
        (now, now),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def next_due(conn: Conn, now: float) -> float | None:
    """When the earliest pending row not due yet becomes due (an alert group's wait, a retry), or None."""
    row = conn.execute(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE status IN ('pending', 'dead') AND status = 'pending'"
        " AND next_attempt_at > ?",
        (now,),
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def claim_next(
    conn: Conn, dest_type: str, target: str, worker: str, now: float, lease_seconds: float
) -> OutboxRow | None:
    """Leases one channel's most severe due row (oldest first among equals) to `worker`, atomically; None if none.

    Priority only reorders rows that are due: a row waiting for its retry time is passed over whatever its
    severity, and a lower row is never dropped, only sent after the due rows above it. A channel fed critical rows
    faster than it may send (Slack: one a second) holds its lower rows back for as long as that lasts; accepted,
    because critical kinds are rare standing conditions (quota reached, CRM sync failing) and while they flood,
    they are what the channel's readers need first; the lower rows go as soon as the flood ends.

    A row still carrying an expired claim was abandoned mid-send (a crash, a hang): that send may have reached the
    destination, so the row becomes unsure since that claim began.
    """
    skip_locked = dialect_of(
        conn
    ).skip_locked  # PostgreSQL: another replica's claim in progress is passed over
    row = conn.execute(
        "UPDATE outbox SET unsure_since = CASE WHEN claimed_by IS NULL THEN unsure_since"
        " ELSE COALESCE(unsure_since, claimed_at, created_at) END,"
        " claimed_by = ?, claimed_at = ?, lease_until = ? WHERE id = ("
        " SELECT id FROM outbox WHERE dest_type = ? AND target = ? AND status = 'pending'"
        " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY priority DESC, id LIMIT 1"
        f"{skip_locked}) RETURNING {_COLUMNS}",
        (worker, now, now + lease_seconds, dest_type, target, now, now),
    ).fetchone()
    return _row(row) if row else None


def extend_lease(conn: Conn, row_id: int, worker: str, until: float) -> bool:
    """Keeps a claim alive while a send waits (e.g. on Retry-After); False if the claim was lost."""
    cur = conn.execute(
        "UPDATE outbox SET lease_until = ? WHERE id = ? AND claimed_by = ? AND status = 'pending'",
        (until, row_id, worker),
    )
    return cur.rowcount == 1


def mark_delivered(conn: Conn, row_id: int, worker: str, message_id: str | None, now: float) -> None:
    """Records a successful send and the provider's message id.

    A send that really happened counts even if the lease ran out meanwhile: the message is out there.
    """
    del worker
    conn.execute(
        "UPDATE outbox SET status = 'delivered', provider_message_id = ?, delivered_at = ?, attempts = attempts + 1,"
        " last_error = NULL, claimed_by = NULL, lease_until = NULL WHERE id = ? AND status = 'pending'",
        (message_id, now, row_id),
    )


def mark_retry(
    conn: Conn,
    row_id: int,
    worker: str,
    error: str,
    next_at: float,
    unsure_since: float | None = None,
) -> None:
    """Counts a failed attempt and schedules the next one; `unsure_since` marks an attempt that may have landed."""
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_by = NULL,"
        " lease_until = NULL, unsure_since = COALESCE(unsure_since, ?) WHERE id = ? AND claimed_by = ?",
        (error, next_at, unsure_since, row_id, worker),
    )


def mark_dead(conn: Conn, row_id: int, worker: str, error: str, unsure_since: float | None = None) -> None:
    """Gives up on a row; it stays visible in `outbox list` until retried (which looks first if it is unsure)."""
    conn.execute(
        "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?, claimed_by = NULL,"
        " lease_until = NULL, unsure_since = COALESCE(unsure_since, ?) WHERE id = ? AND claimed_by = ?",
        (error, unsure_since, row_id, worker),
    )


def release(conn: Conn, row_id: int, worker: str, unsure_since: float | None = None) -> None:
    """Gives a claimed row back without counting an attempt (shutdown); `unsure_since` if a send was cut short."""
    conn.execute(
        "UPDATE outbox SET claimed_by = NULL, lease_until = NULL, unsure_since = COALESCE(unsure_since, ?)"
        " WHERE id = ? AND claimed_by = ?",
        (unsure_since, row_id, worker),
    )


@dataclass(frozen=True)
class OpenRow:
    """A delivery not done: where it goes, how often it was tried, the last error, and its event."""

    id: int
    destination: str
    target: str
    attempts: int
    last_error: str | None
    event_key: str
    kind: str
    received_at: str


@dataclass(frozen=True)
class DeadRow(OpenRow):
    """A delivery that was given up, with the reason."""

    # always set by list_dead; the default keeps rows built by hand (tests) as they were
    event_id: int | None = None


@dataclass(frozen=True)
class PendingRow(OpenRow):
    """A delivery still to be made: how often it was tried, why the last try failed, when the next one is due."""

    event_id: int
    next_attempt_at: float
    claimed: bool  # a worker is sending it now


_OPEN_COLUMNS = (
    "o.id, o.destination, o.target, o.attempts, o.last_error, e.key, e.kind, e.received_at, o.event_id"
)


def _open_rows(
    conn: Conn, status: str, columns: str, limit: int, before: int | None, after: int | None = None
) -> list[Row]:
    """Open rows of one status, newest event first (then newest row): after the row `before` in that order, or the
    `limit` rows just before the row `after` (the newer page, still returned newest first).

    outbox_open holds (status, event_id, id) for open rows only: a page is one ordered range however many rows are
    open (100,000 pending during an outage). A cursor row that no longer exists (pruned) ends the list.
    """
    if before is not None and after is not None:
        raise ListRequestError("give `before` or `after`, not both")
    where, args, order = "", [], "DESC"
    cursor_id = before if before is not None else after
    if cursor_id is not None:
        cursor = conn.execute("SELECT event_id FROM outbox WHERE id = ?", (cursor_id,)).fetchone()
        if cursor is None:
            return []
        where = f" AND (o.event_id, o.id) {'<' if after is None else '>'} (?, ?)"
        args = [int(cursor[0]), cursor_id]
        order = "DESC" if after is None else "ASC"
    rows = conn.execute(
        f"SELECT {columns} FROM outbox o JOIN events e ON e.id = o.event_id"
        # the IN term lets SQLite use the partial index of open rows
        f" WHERE o.status IN ('pending', 'dead') AND o.status = ?{where}"
        f" ORDER BY o.event_id {order}, o.id {order} LIMIT ?",
        [status, *args, limit],
    ).fetchall()
    return list(rows) if order == "DESC" else list(reversed(rows))


def list_dead(
    conn: Conn, limit: int = 100, before: int | None = None, after: int | None = None
) -> list[DeadRow]:
    """Dead rows, newest event first; `before`/`after`: the last/first row of the neighbouring page (keyset)."""
    return [DeadRow(*tuple(r)) for r in _open_rows(conn, "dead", _OPEN_COLUMNS, limit, before, after)]


def list_pending(
    conn: Conn, limit: int = 100, before: int | None = None, after: int | None = None
) -> list[PendingRow]:
    """Pending rows, newest event first; `before`/`after`: the last/first row of the neighbouring page (keyset)."""
    columns = f"{_OPEN_COLUMNS}, o.next_attempt_at, o.claimed_by IS NOT NULL AS claimed"
    return [
        PendingRow(
            r["id"],
            r["destination"],
            r["target"],
            r["attempts"],
            r["last_error"],
            r["key"],
            r["kind"],
            r["received_at"],
            r["event_id"],
            r["next_attempt_at"],
            bool(r["claimed"]),
        )
        for r in _open_rows(conn, "pending", columns, limit, before, after)
    ]


def requeue(conn: Conn, row_id: int, now: float) -> bool:
    """Puts a dead row back in the queue with a fresh attempt budget."""
    cur = conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_by = NULL,"
        " lease_until = NULL WHERE id = ? AND status = 'dead'",
        (now, row_id),
    )
    return cur.rowcount == 1


def depth_by_type(conn: Conn) -> dict[tuple[str, str], int]:
    """Row counts by (dest_type, status) for pending and dead rows."""
    rows = conn.execute(
        "SELECT dest_type, status, count(*) FROM outbox WHERE status IN ('pending', 'dead')"
        " GROUP BY dest_type, status"
    ).fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}
