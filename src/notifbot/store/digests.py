"""Digests in the store: an event joins its period's digest, whose one outbox row is due at the period's end.

`join` runs inside the ingest transaction (store/events.py): an accepted event is a member of its period's digest in
the same commit, and the period's first event creates the digest with its one outbox row (next_attempt_at = the
period's end), so an empty period has no row and posts nothing, and a kill -9 loses nothing. The worker reads a
digest with `seal`, which also closes it: an event arriving after that (the period has ended, or its clock lagged
the worker's) joins the next period, so what a digest message shows is everything it will ever hold and its row is
delivered once, with the outbox's ordinary leases, retries and dead rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from notifbot.digests import DigestRef, Period, period_at
from notifbot.model import Kind, Notification, Severity
from notifbot.store.conn import Conn
from notifbot.store.db import transaction
from notifbot.store.dialect import lock_keys
from notifbot.store.rows import notification_from_row


@dataclass(frozen=True)
class DigestContent:
    """What a digest message shows: its period, count, first event, worst severity, first members and the mix."""

    digest_id: int
    label: str
    timezone: str
    period: Period
    count: int
    first: Notification
    severity: Severity
    last_seen: float
    head: list[Notification]
    breakdown: list[tuple[str, str | None, int]]  # (kind, instance, count), most frequent first


def _ts(value: datetime) -> float:
    return value.timestamp()


def lock_key(key_id: str) -> str:
    """The text key `join` locks a digest by (dialect.lock_keys), so one digest per period is created."""
    return "digest:" + key_id


def join(
    conn: Conn,
    event_id: int,
    severity: Severity,
    ref: DigestRef,
    destination: tuple[str, str, str],
    now: float,
) -> int:
    """Adds the event to the digest of the period `now` is in (or the next unsealed one); returns the digest id.

    Call inside the ingest transaction. `destination` is (name, type, target) of the outbox row.
    """
    lock_keys(conn, lock_key(ref.key_id))
    # the usual case, the period's digest already collecting, needs no period arithmetic
    row = conn.execute(
        "SELECT id, count, severity FROM digests WHERE key_id = ? AND period_start <= ? AND period_end > ?"
        " AND sealed = 0",
        (ref.key_id, now, now),
    ).fetchone()
    period = None if row is not None else period_at(ref.policy, now)
    while period is not None:
        row = conn.execute(
            "SELECT id, count, severity, sealed FROM digests WHERE key_id = ? AND period_end = ?",
            (ref.key_id, _ts(period.end)),
        ).fetchone()
        if row is None or not row["sealed"]:
            break
        period = period_at(ref.policy, _ts(period.end))  # already read for posting: the next period takes it
    if row is not None:
        digest_id, seq = int(row["id"]), int(row["count"]) + 1
        worse = severity.priority > Severity(row["severity"]).priority
        conn.execute(
            "UPDATE digests SET count = ?, last_seen = ?, severity = ? WHERE id = ?",
            (seq, now, severity.value if worse else row["severity"], digest_id),
        )
        if worse:
            conn.execute("UPDATE outbox SET priority = ? WHERE digest_id = ?", (severity.priority, digest_id))
        conn.execute(
            "INSERT INTO digest_events (digest_id, seq, event_id) VALUES (?, ?, ?)",
            (digest_id, seq, event_id),
        )
        return digest_id
    assert period is not None
    policy = ref.policy
    digest_id = int(
        conn.execute(
            "INSERT INTO digests (key_id, label, destination, every_seconds, at, timezone, period_start,"
            " period_end, first_event_id, severity, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (
                ref.key_id,
                ref.label,
                destination[0],
                policy.every.total_seconds(),
                policy.at.strftime("%H:%M"),
                policy.timezone,
                _ts(period.start),
                _ts(period.end),
                event_id,
                severity.value,
                now,
            ),
        ).fetchone()[0]
    )
    conn.execute(
        "INSERT INTO digest_events (digest_id, seq, event_id) VALUES (?, 1, ?)", (digest_id, event_id)
    )
    conn.execute(
        "INSERT INTO outbox (event_id, destination, dest_type, target, priority, next_attempt_at, created_at,"
        " digest_id) VALUES (?,?,?,?,?,?,?,?)",
        (event_id, *destination, severity.priority, _ts(period.end), now, digest_id),
    )
    return digest_id


def seal(conn: Conn, digest_id: int, *, head: int, kinds: int = 5) -> DigestContent | None:
    """Closes the digest to new events and returns what its message shows (None: no such digest)."""
    with transaction(conn):
        conn.execute("UPDATE digests SET sealed = 1 WHERE id = ?", (digest_id,))
        row = conn.execute("SELECT * FROM digests WHERE id = ?", (digest_id,)).fetchone()
    if row is None:
        return None
    members = conn.execute(
        "SELECT e.* FROM digest_events d JOIN events e ON e.id = d.event_id WHERE d.digest_id = ? ORDER BY d.seq"
        " LIMIT ?",
        (digest_id, head),
    ).fetchall()
    mix = conn.execute(
        "SELECT e.kind, e.original_kind, e.instance, count(*) AS n FROM digest_events d"
        " JOIN events e ON e.id = d.event_id WHERE d.digest_id = ?"
        " GROUP BY e.kind, e.original_kind, e.instance ORDER BY n DESC, min(d.seq) LIMIT ?",
        (digest_id, kinds),
    ).fetchall()
    first = conn.execute("SELECT * FROM events WHERE id = ?", (row["first_event_id"],)).fetchone()
    return DigestContent(
        digest_id=digest_id,
        label=row["label"],
        timezone=row["timezone"],
        period=Period(
            datetime.fromtimestamp(row["period_start"], UTC), datetime.fromtimestamp(row["period_end"], UTC)
        ),
        count=row["count"],
        first=notification_from_row(first),
        severity=Severity(row["severity"]),
        last_seen=row["last_seen"],
        head=[notification_from_row(m) for m in members],
        breakdown=[(_kind(m["kind"], m["original_kind"]), m["instance"], int(m["n"])) for m in mix],
    )


def _kind(kind: str, original: object) -> str:
    if kind == Kind.OTHER.value and isinstance(original, str) and original:
        return original
    return kind
