"""Read-only, index-backed queries behind the commands (run via Database.call); re-exports marketo_queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifbot.commands.listing import (
    SCAN_ROWS,
    STATUSES,
    Filters,
    ListPage,
    ListRequestError,
    RecentRow,
    Stop,
    recent_page,
    rows_by_id,
)
from notifbot.commands.marketo_queries import (
    QuotaSample,
    QuotaView,
    StaleTriggers,
    TriggerCampaign,
    quota_overview,
    sampled_instances,
    stale_triggers,
)
from notifbot.model import Severity
from notifbot.store.conn import Conn

__all__ = [
    "COUNT_CAP",
    "SCAN_ROWS",
    "STATUSES",
    "Filters",
    "ListPage",
    "ListRequestError",
    "PollerState",
    "QuotaSample",
    "QuotaView",
    "RecentPage",
    "RecentRow",
    "StaleTriggers",
    "StatusCounts",
    "Stop",
    "TriggerCampaign",
    "quota_overview",
    "recent",
    "recent_page",
    "rows_by_id",
    "sampled_instances",
    "stale_triggers",
    "status_counts",
]

MAX_CHANNELS = 200  # loose index scan over outbox channels up to this many


@dataclass(frozen=True)
class RecentPage:
    """The newest notifications (newest first) and how many of that kind are stored in all, counted up to
    COUNT_CAP + 1 (past the cap, "more than COUNT_CAP")."""

    rows: list[RecentRow]
    total: int

    @property
    def capped(self) -> bool:
        """True when more than COUNT_CAP are stored (the exact number was not counted)."""
        return self.total > COUNT_CAP


# Counting every stored event is a scan on PostgreSQL (78–132 ms at a million rows): the total stops past this
COUNT_CAP = 10_000


def recent(conn: Conn, kind: str | None, limit: int) -> RecentPage:
    """The newest `limit` notifications, optionally of one kind (the list's first page), and their capped total."""
    rows = recent_page(conn, Filters(kind=kind), None, None, limit).rows if limit > 0 else []
    where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
    total = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM events {where} LIMIT ?) capped", [*args, COUNT_CAP + 1]
    ).fetchone()[0]
    return RecentPage(rows, int(total))


@dataclass(frozen=True)
class PollerState:
    """What one Marketo poller of one instance last did."""

    instance: str
    poller: str
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    day: str | None
    calls_today: int


@dataclass(frozen=True)
class StatusCounts:
    """Numbers for the status card."""

    events: int
    pending: int
    dead: int
    last_delivered_at: float | None
    active_mutes: int
    pollers: list[PollerState]
    groups: dict[str, int] = field(
        default_factory=dict
    )  # open alert groups by state (firing, acknowledged, …)


def _channels(conn: Conn) -> list[tuple[str, str]] | None:
    """The outbox's (dest_type, target) pairs by a loose index scan; None when there are very many."""
    out: list[tuple[str, str]] = []
    row = conn.execute("SELECT dest_type, target FROM outbox ORDER BY dest_type, target LIMIT 1").fetchone()
    while row is not None:
        if len(out) == MAX_CHANNELS:
            return None
        dest_type, target = str(row[0]), str(row[1])
        out.append((dest_type, target))
        row = (
            conn.execute(
                "SELECT ?, target FROM outbox WHERE dest_type = ? AND target > ? ORDER BY target LIMIT 1",
                (dest_type, dest_type, target),
            ).fetchone()
            or conn.execute(
                "SELECT dest_type, target FROM outbox WHERE dest_type > ? ORDER BY dest_type, target LIMIT 1",
                (dest_type,),
            ).fetchone()
        )
    return out


_PRIORITIES = sorted({s.priority for s in Severity})
_NEWEST_OF_PRIORITY = (
    "SELECT max(id) FROM outbox WHERE dest_type = ? AND target = ? AND status = 'delivered' AND priority = ?"
)
_NEWEST_EACH = " UNION ALL ".join([_NEWEST_OF_PRIORITY] * len(_PRIORITIES))
_NEWEST_DELIVERED = f"SELECT max(delivered_at) FROM outbox WHERE id IN ({_NEWEST_EACH})"


def _last_delivery(conn: Conn) -> float | None:
    """The newest delivery time: per channel and priority, its newest delivered row, by seeks in outbox_claim.

    A channel sends oldest first within a priority (claim_next), so the newest row of each priority is the last
    one delivered at that priority.
    """
    channels = _channels(conn)
    if channels is None:  # very many channels: one scan is cheaper than many seeks
        last = conn.execute("SELECT max(delivered_at) FROM outbox").fetchone()[0]
        return float(last) if last is not None else None
    newest: list[float] = []
    for channel in channels:
        row = conn.execute(_NEWEST_DELIVERED, [v for _ in _PRIORITIES for v in (*channel, _)]).fetchone()
        if row is not None and row[0] is not None:
            newest.append(float(row[0]))
    return max(newest, default=None)


def status_counts(conn: Conn, now: float) -> StatusCounts:
    """Totals for the status card; each is an index scan or seek (milliseconds at 100,000 events)."""
    events = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    open_rows = dict(  # the partial index outbox_open holds only these rows
        conn.execute(
            "SELECT status, count(*) FROM outbox WHERE status IN ('pending', 'dead') GROUP BY status"
        ).fetchall()
    )
    last = _last_delivery(conn)
    mutes = conn.execute(
        "SELECT count(*) FROM mutes WHERE ended_at IS NULL AND until > ?", (now,)
    ).fetchone()[0]
    pollers = [
        PollerState(
            str(r["instance"]),
            str(r["poller"]),
            r["last_success_at"],
            r["last_error"],
            r["last_error_at"],
            r["day"],
            int(r["calls_today"] or 0),
        )
        for r in conn.execute("SELECT * FROM poller_state ORDER BY instance, poller")
    ]
    groups: dict[str, int] = {}
    for state, acked, count in conn.execute(  # the partial unique index alert_groups_open holds only these
        "SELECT state, acked, count(*) FROM alert_groups WHERE closed = 0 GROUP BY state, acked"
    ):
        name = "acknowledged" if acked and state == "firing" else str(state)
        groups[name] = groups.get(name, 0) + int(count)
    return StatusCounts(
        events,
        int(open_rows.get("pending", 0)),
        int(open_rows.get("dead", 0)),
        last,
        int(mutes),
        pollers,
        groups,
    )
