"""One stored event's deliveries, for the console's notification page: every outbox row that carries it.

An event goes out through its own rows (one per destination), or as part of an alert group's or a digest's message,
whose single row then carries it with the others. Each is found by an index on the event id (the own rows'
`UNIQUE (event_id, destination)`, `alert_group_events_event`, `digest_events_event`), so the page costs a few seeks.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store.conn import Conn, Row

VIAS = ("own", "group", "digest")


@dataclass(frozen=True)
class Delivery:
    """One outbox row carrying the event: its state and, for a group or digest, that message's count and state."""

    id: int
    destination: str
    dest_type: str
    target: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: float
    delivered_at: float | None
    acked_by: str | None
    acked_at: float | None
    via: str  # one of VIAS: the event's own message, an alert group's or a digest's
    count: int | None = None  # events in the group or digest
    state: str | None = None  # the group's: firing or resolved
    label: str | None = None  # the digest's name
    period_end: float | None = None  # when the digest's period ends (it is posted then)


_ROW = (
    "o.id, o.destination, o.dest_type, o.target, o.status, o.attempts, o.last_error, o.next_attempt_at,"
    " o.delivered_at, o.acked_by, o.acked_at"
)
# typed NULLs: PostgreSQL types a UNION's column from its arms, and a bare NULL in two arms is text
_NO_COUNT, _NO_TEXT, _NO_TIME = (
    "CAST(NULL AS INTEGER)",
    "CAST(NULL AS TEXT)",
    "CAST(NULL AS DOUBLE PRECISION)",
)


def _delivery(r: Row) -> Delivery:
    return Delivery(
        id=int(r["id"]),
        destination=str(r["destination"]),
        dest_type=str(r["dest_type"]),
        target=str(r["target"]),
        status=str(r["status"]),
        attempts=int(r["attempts"]),
        last_error=r["last_error"],
        next_attempt_at=float(r["next_attempt_at"]),
        delivered_at=None if r["delivered_at"] is None else float(r["delivered_at"]),
        acked_by=r["acked_by"],
        acked_at=None if r["acked_at"] is None else float(r["acked_at"]),
        via=str(r["via"]),
        count=None if r["count"] is None else int(r["count"]),
        state=r["state"],
        label=r["label"],
        period_end=None if r["period_end"] is None else float(r["period_end"]),
    )


def deliveries_of(conn: Conn, event_id: int) -> list[Delivery]:
    """Every outbox row carrying this event (its own, its alert group's, its digest's), by destination."""
    rows = conn.execute(
        f"SELECT {_ROW}, 'own' AS via, {_NO_COUNT} AS count, {_NO_TEXT} AS state, {_NO_TEXT} AS label,"
        f" {_NO_TIME} AS period_end"
        " FROM outbox o WHERE o.event_id = ? AND o.group_id IS NULL AND o.digest_id IS NULL"
        f" UNION ALL SELECT {_ROW}, 'group', g.count, g.state, {_NO_TEXT}, {_NO_TIME} FROM alert_group_events ge"
        " JOIN alert_groups g ON g.id = ge.group_id JOIN outbox o ON o.group_id = g.id WHERE ge.event_id = ?"
        f" UNION ALL SELECT {_ROW}, 'digest', d.count, {_NO_TEXT}, d.label, d.period_end FROM digest_events de"
        " JOIN digests d ON d.id = de.digest_id JOIN outbox o ON o.digest_id = d.id WHERE de.event_id = ?"
        " ORDER BY 2, 1",
        (event_id, event_id, event_id),
    ).fetchall()
    return [_delivery(r) for r in rows]
