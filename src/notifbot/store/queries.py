"""Read-only store queries behind the commands; each runs on the database thread via Database.call."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from notifbot.model import Kind


@dataclass(frozen=True)
class RecentRow:
    """One stored notification with its delivery status."""

    key: str
    kind: str
    severity: str
    instance: str | None
    occurred_at: str
    received_at: str
    summary: str | None
    fields: dict[str, Any]
    status: str
    acked_by: str | None


def _status(muted_by: int | None, statuses: str | None, acked_by: str | None) -> str:
    if muted_by is not None:
        return "muted"
    parts = (statuses or "").split(",") if statuses else []
    if not parts:
        return "unrouted"
    if "dead" in parts:
        return "dead"
    if all(p == "delivered" for p in parts):
        return "acknowledged" if acked_by else "delivered"
    return "pending"


def recent(conn: sqlite3.Connection, kind: str | None, limit: int) -> list[RecentRow]:
    """The newest notifications (rowid order = arrival order), optionally of one kind."""
    where, args = "", []
    if kind:
        if Kind.parse(kind) is Kind.OTHER and kind != "other":
            where, args = "WHERE e.kind = 'other' AND e.original_kind = ?", [kind]
        else:
            where, args = "WHERE e.kind = ?", [kind]
    rows = conn.execute(
        "SELECT e.key, e.kind, e.original_kind, e.severity, e.instance, e.occurred_at, e.received_at, e.summary,"
        " e.fields, e.muted_by,"
        " (SELECT group_concat(o.status) FROM outbox o WHERE o.event_id = e.id) AS statuses,"
        " (SELECT max(o.acked_by) FROM outbox o WHERE o.event_id = e.id) AS acked_by"
        f" FROM events e {where} ORDER BY e.id DESC LIMIT ?",
        [*args, limit],
    ).fetchall()
    return [
        RecentRow(
            key=r["key"],
            kind=r["original_kind"] or r["kind"],
            severity=r["severity"],
            instance=r["instance"],
            occurred_at=r["occurred_at"],
            received_at=r["received_at"],
            summary=r["summary"],
            fields=json.loads(r["fields"]),
            status=_status(r["muted_by"], r["statuses"], r["acked_by"]),
            acked_by=r["acked_by"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class QuotaSample:
    """One reading of an instance's daily API usage."""

    instance: str
    sampled_at: float
    day: str
    used: int
    quota: int
    users: list[dict[str, Any]]
    errors: dict[str, int]


def _sample(r: sqlite3.Row) -> QuotaSample:
    return QuotaSample(
        r["instance"],
        r["sampled_at"],
        r["day"],
        r["used"],
        r["quota"],
        json.loads(r["users"]),
        json.loads(r["errors"]),
    )


def quota_samples(conn: sqlite3.Connection) -> dict[str, list[QuotaSample]]:
    """Per instance, the samples of its latest day, oldest first."""
    out: dict[str, list[QuotaSample]] = {}
    latest = conn.execute(
        "SELECT instance, day FROM quota_samples WHERE id IN (SELECT max(id) FROM quota_samples GROUP BY instance)"
    ).fetchall()
    for row in latest:
        rows = conn.execute(
            "SELECT * FROM quota_samples WHERE instance = ? AND day = ? ORDER BY sampled_at",
            (row["instance"], row["day"]),
        ).fetchall()
        out[row["instance"]] = [_sample(r) for r in rows]
    return out


@dataclass(frozen=True)
class TriggerCampaign:
    """An active trigger campaign and when notifbot last saw a person qualify."""

    instance: str
    campaign_id: int
    name: str
    program_name: str | None
    url: str | None
    last_activity_at: str | None
    observed_since: str


def trigger_campaigns(conn: sqlite3.Connection) -> list[TriggerCampaign]:
    """Every active trigger campaign the pollers know."""
    rows = conn.execute(
        "SELECT instance, campaign_id, name, program_name, url, last_activity_at, observed_since"
        " FROM trigger_campaigns WHERE is_active = 1"
    ).fetchall()
    return [TriggerCampaign(*tuple(r)) for r in rows]


@dataclass(frozen=True)
class StatusCounts:
    """Numbers for `/marketo status`."""

    events: int
    pending: int
    dead: int
    muted: int
    pollers: list[dict[str, Any]]


def status_counts(conn: sqlite3.Connection) -> StatusCounts:
    """Totals for the status card (count(*) on indexed columns; fast at 100k rows)."""
    events = conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
    by_status = dict(
        conn.execute(
            "SELECT status, count(*) FROM outbox WHERE status IN ('pending', 'dead') GROUP BY status"
        ).fetchall()
    )
    muted = conn.execute("SELECT count(*) FROM events WHERE muted_by IS NOT NULL").fetchone()[0]
    pollers = [dict(r) for r in conn.execute("SELECT * FROM poller_state ORDER BY instance, poller")]
    return StatusCounts(
        int(events), int(by_status.get("pending", 0)), int(by_status.get("dead", 0)), int(muted), pollers
    )
