"""Retention: what is old enough to delete, deleted in small batches, each batch one short transaction.

The same SQL on SQLite and PostgreSQL (row values, NOT EXISTS; no rowid, no LIMIT on DELETE). The conditions are
written with `:name` markers, which compose readably; `_bound` sends each statement in the store's `?` form with
its values in order. What the backends do with the space deletes free is store/space.py's (re-exported here).

Order matters, the foreign keys being on: a finished alert group or digest goes first (its members, its outbox
row, then the row itself), then the events no longer referenced by anything kept, with their outbox rows. An event
is kept while any of its outbox rows can still be sent (neither delivered nor dead), while a kept group or digest
lists it, or while it is younger than the window.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from notifbot.store.db import transaction
from notifbot.store.space import VACUUM_PAGES as VACUUM_PAGES
from notifbot.store.space import Space as Space
from notifbot.store.space import reclaim_space as reclaim_space
from notifbot.store.space import space as space
from notifbot.store.space import vacuum

DAY = 86400.0
TABLES = (
    "alert_group_events",
    "alert_groups",
    "digest_events",
    "digests",
    "outbox",
    "events",
    "quota_samples",
    "trigger_campaigns",
    "campaign_activity",
    "teams_inbox",
)


@dataclass(frozen=True)
class Windows:
    """How long each kind of row is kept, in days, and how many rows one transaction deletes at most."""

    days: float = 90
    quota_sample_days: float = 90
    activity_days: float = 400
    inbox_days: float = 30
    batch: int = 200


@dataclass(frozen=True)
class Cutoffs:
    """The instants before which rows go: epoch seconds for REAL columns, ISO text for the TEXT ones."""

    events: float
    events_iso: str
    quota: float
    activity: float
    activity_iso: str
    inbox: float

    @classmethod
    def at(cls, windows: Windows, now: float) -> Cutoffs:
        """The cutoffs of `windows` at `now` (epoch seconds)."""

        def iso(ts: float, fmt: str | None = None) -> str:
            dt = datetime.fromtimestamp(ts, UTC)
            return dt.strftime(fmt) if fmt else dt.isoformat()

        events = now - windows.days * DAY
        activity = now - windows.activity_days * DAY
        return cls(
            events=events,
            events_iso=iso(events),  # the form store/events.py writes received_at in
            quota=now - windows.quota_sample_days * DAY,
            activity=activity,
            activity_iso=iso(activity, "%Y-%m-%dT%H:%M:%SZ"),  # store/trigger_state.py iso_utc
            inbox=now - windows.inbox_days * DAY,
        )


# A closed episode or a posted digest older than the window, whose outbox row will not be sent again.
GROUP_GOES = (
    "g.closed = 1 AND g.last_seen < :events AND NOT EXISTS (SELECT 1 FROM outbox o"
    " WHERE o.group_id = g.id AND o.status NOT IN ('delivered', 'dead'))"
)
DIGEST_GOES = (
    "g.sealed = 1 AND g.period_end < :events AND NOT EXISTS (SELECT 1 FROM outbox o"
    " WHERE o.digest_id = g.id AND o.status NOT IN ('delivered', 'dead'))"
)
# An old event whose outbox rows are all finished and that nothing kept refers to (members of groups and digests
# going in the same run are left to `_EVENT_KEPT_BY`: the delete needs them gone first, the dry run counts past them).
_EVENT_OLD = (
    "e.received_at < :events_iso AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id"
    " AND o.status NOT IN ('delivered', 'dead'))"
)
_EVENT_FREE = (
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id"
    " AND (o.group_id IS NOT NULL OR o.digest_id IS NOT NULL))"
    " AND NOT EXISTS (SELECT 1 FROM alert_group_events m WHERE m.event_id = e.id)"
    " AND NOT EXISTS (SELECT 1 FROM digest_events m WHERE m.event_id = e.id)"
    " AND NOT EXISTS (SELECT 1 FROM alert_groups g WHERE g.first_event_id = e.id)"
    " AND NOT EXISTS (SELECT 1 FROM alert_groups g WHERE g.last_event_id = e.id)"
    " AND NOT EXISTS (SELECT 1 FROM digests g WHERE g.first_event_id = e.id)"
)
_EVENT_KEPT_BY = (
    f" AND NOT EXISTS (SELECT 1 FROM alert_group_events m JOIN alert_groups g ON g.id = m.group_id"
    f" WHERE m.event_id = e.id AND NOT ({GROUP_GOES}))"
    f" AND NOT EXISTS (SELECT 1 FROM digest_events m JOIN digests g ON g.id = m.digest_id"
    f" WHERE m.event_id = e.id AND NOT ({DIGEST_GOES}))"
    f" AND NOT EXISTS (SELECT 1 FROM alert_groups g WHERE (g.first_event_id = e.id OR g.last_event_id = e.id)"
    f" AND NOT ({GROUP_GOES}))"
    f" AND NOT EXISTS (SELECT 1 FROM digests g WHERE g.first_event_id = e.id AND NOT ({DIGEST_GOES}))"
)
QUOTA_GOES = "sampled_at < :quota"
TRIGGER_GOES = "is_active = 0 AND updated_at < :activity"
ACTIVITY_GOES = (
    "a.last_activity_at < :activity_iso AND NOT EXISTS (SELECT 1 FROM trigger_campaigns t"
    " WHERE t.instance = a.instance AND t.campaign_id = a.campaign_id)"
)
INBOX_GOES = "status <> 'pending' AND received_at < :inbox"


def _params(cut: Cutoffs) -> dict[str, object]:
    return {
        "events": cut.events,
        "events_iso": cut.events_iso,
        "quota": cut.quota,
        "activity": cut.activity,
        "activity_iso": cut.activity_iso,
        "inbox": cut.inbox,
    }


def _marks(values: list[int]) -> str:
    return ", ".join("?" * len(values))


_NAMED = re.compile(r":([a-z_][a-z0-9_]*)")


def _bound(sql: str, values: Mapping[str, object]) -> tuple[str, list[object]]:
    """`sql` with its `:name` markers as `?` placeholders (the one style both backends take) and the values in order."""
    args: list[object] = []

    def mark(m: re.Match[str]) -> str:
        args.append(values[m.group(1)])
        return "?"

    return _NAMED.sub(mark, sql), args


Counts = dict[str, int]


@dataclass(frozen=True)
class _Parent:
    """A table whose rows own member rows and one outbox row: alert_groups or digests."""

    table: str
    members: str
    member_key: str
    outbox_key: str
    goes: str
    order: str


GROUPS = _Parent("alert_groups", "alert_group_events", "group_id", "group_id", GROUP_GOES, "g.last_seen")
DIGESTS = _Parent("digests", "digest_events", "digest_id", "digest_id", DIGEST_GOES, "g.period_end")


def _prune_parents(conn: sqlite3.Connection, p: _Parent, params: dict[str, object], batch: int) -> Counts:
    """One batch of finished groups (or digests): at most `batch` member rows, then the rows they hang from."""
    rows = conn.execute(
        *_bound(
            f"SELECT g.id, g.count FROM {p.table} g WHERE {p.goes} ORDER BY {p.order}, g.id LIMIT :batch",
            {**params, "batch": batch},
        )
    ).fetchall()
    if not rows:
        return {}
    first_id, first_count = int(rows[0][0]), int(rows[0][1])
    if first_count > batch:  # a big episode: its members go a batch at a time, the highest seq first
        top = conn.execute(
            f"SELECT max(seq) FROM {p.members} WHERE {p.member_key} = ?", (first_id,)
        ).fetchone()[0]
        if top is not None and top > batch:
            n = conn.execute(
                f"DELETE FROM {p.members} WHERE {p.member_key} = ? AND seq > ?", (first_id, top - batch)
            ).rowcount
            return {p.members: n}
    ids: list[int] = []
    total = 0
    for row_id, count in rows:
        if ids and total + int(count) > batch:
            break
        ids.append(int(row_id))
        total += int(count)
    marks = _marks(ids)
    return {
        p.members: conn.execute(f"DELETE FROM {p.members} WHERE {p.member_key} IN ({marks})", ids).rowcount,
        "outbox": conn.execute(f"DELETE FROM outbox WHERE {p.outbox_key} IN ({marks})", ids).rowcount,
        p.table: conn.execute(f"DELETE FROM {p.table} WHERE id IN ({marks})", ids).rowcount,
    }


def _simple(table: str, key: str, goes: str, alias: str = "") -> Callable[..., Counts]:
    """One batch of rows of a table nothing refers to, found oldest key first."""

    def prune(conn: sqlite3.Connection, params: dict[str, object], batch: int) -> Counts:
        n = conn.execute(
            *_bound(
                f"DELETE FROM {table} WHERE ({key}) IN"
                f" (SELECT {key} FROM {table} {alias} WHERE {goes} ORDER BY {key} LIMIT :batch)",
                {**params, "batch": batch},
            )
        ).rowcount
        return {table: n} if n else {}

    return prune


_SIMPLE = (
    _simple("quota_samples", "id", QUOTA_GOES),
    _simple("trigger_campaigns", "instance, campaign_id", TRIGGER_GOES),
    _simple("campaign_activity", "instance, campaign_id", ACTIVITY_GOES, "a"),
    _simple("teams_inbox", "id", INBOX_GOES),
)


@dataclass
class Pruning:
    """One pruning run as a sequence of short transactions: call `step` until it returns None.

    Old events are walked in arrival (id) order, `batch` at a time (keyset: no batch looks at more than `batch`
    events however many old ones are kept, pending rows or open groups); the walk ends at the first batch that
    starts with an event inside the window. The dry run is `would_prune`.
    """

    windows: Windows
    now: float
    cut: Cutoffs = field(init=False)
    phase: int = 0
    seen_at: str = ""  # the events walk: (received_at, id) of the last event looked at
    seen_id: int = 0
    walked: bool = False
    total: Counts = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cut = Cutoffs.at(self.windows, self.now)

    def step(self, conn: sqlite3.Connection) -> Counts | None:
        """Deletes one batch in its own transaction; returns what it deleted, or None once the run is over."""
        params, batch = _params(self.cut), self.windows.batch
        while self.phase < 3 + len(_SIMPLE):
            with transaction(conn):
                if self.phase == 0:
                    done = _prune_parents(conn, GROUPS, params, batch)
                elif self.phase == 1:
                    done = _prune_parents(conn, DIGESTS, params, batch)
                elif self.phase == 2:
                    done = self._events(conn, params, batch)
                else:
                    done = _SIMPLE[self.phase - 3](conn, params, batch)
            done = {t: n for t, n in done.items() if n}
            if done or (self.phase == 2 and not self.walked):
                _add(self.total, done)
                return done  # empty: a window of events with nothing to delete, the walk goes on
            self.phase += 1
        return None

    def _events(self, conn: sqlite3.Connection, params: dict[str, object], batch: int) -> Counts:
        # ids follow arrival (received_at is the ingest time), so the walk goes by the primary key and ends at the
        # first batch that starts with a young event: no index on received_at for every insert to keep up
        window = conn.execute(
            "SELECT id, received_at FROM events WHERE id > ? ORDER BY id LIMIT ?", (self.seen_id, batch)
        ).fetchall()
        if not window or str(window[0][1]) >= str(params["events_iso"]):
            self.walked = True
            return {}
        self.seen_at, self.seen_id = str(window[-1][1]), int(window[-1][0])
        examined = {f"e{i}": int(r[0]) for i, r in enumerate(window)}
        marks = ", ".join(f":{k}" for k in examined)
        ids = [
            int(r[0])
            for r in conn.execute(
                *_bound(
                    f"SELECT e.id FROM events e WHERE e.id IN ({marks}) AND {_EVENT_OLD}{_EVENT_FREE}",
                    {**params, **examined},
                )
            ).fetchall()
        ]
        if not ids:
            return {}
        marks = _marks(ids)
        return {
            "outbox": conn.execute(f"DELETE FROM outbox WHERE event_id IN ({marks})", ids).rowcount,
            "events": conn.execute(f"DELETE FROM events WHERE id IN ({marks})", ids).rowcount,
        }


def _add(total: Counts, more: Counts) -> None:
    for table, n in more.items():
        if n:
            total[table] = total.get(table, 0) + n


def would_prune(conn: sqlite3.Connection, windows: Windows, now: float) -> Counts:
    """What a run at `now` would delete, per table, read only (counts; no lock held beyond a read)."""
    params = _params(Cutoffs.at(windows, now))
    counts: Counts = {}

    def count(sql: str) -> int:
        return int(conn.execute(*_bound(sql, params)).fetchone()[0])

    for p in (GROUPS, DIGESTS):
        counts[p.members] = count(
            f"SELECT count(*) FROM {p.members} m JOIN {p.table} g ON g.id = m.{p.member_key} WHERE {p.goes}"
        )
        counts[p.table] = count(f"SELECT count(*) FROM {p.table} g WHERE {p.goes}")
    gone_events = f"SELECT e.id FROM events e WHERE {_EVENT_OLD}{_EVENT_KEPT_BY}"
    counts["events"] = count(f"SELECT count(*) FROM ({gone_events}) x")
    counts["outbox"] = count(
        f"SELECT count(*) FROM outbox o WHERE o.event_id IN ({gone_events})"
        f" OR o.group_id IN (SELECT g.id FROM alert_groups g WHERE {GROUP_GOES})"
        f" OR o.digest_id IN (SELECT g.id FROM digests g WHERE {DIGEST_GOES})"
    )
    counts["quota_samples"] = count(f"SELECT count(*) FROM quota_samples WHERE {QUOTA_GOES}")
    counts["trigger_campaigns"] = count(f"SELECT count(*) FROM trigger_campaigns WHERE {TRIGGER_GOES}")
    counts["campaign_activity"] = count(f"SELECT count(*) FROM campaign_activity a WHERE {ACTIVITY_GOES}")
    counts["teams_inbox"] = count(f"SELECT count(*) FROM teams_inbox WHERE {INBOX_GOES}")
    return {t: counts[t] for t in TABLES if counts.get(t)}


def vacuum_to_incremental(conn: sqlite3.Connection) -> None:
    """SQLite: switches the database to auto_vacuum=INCREMENTAL with a full VACUUM, which rewrites the whole file
    and holds the write lock meanwhile (run it with the bot stopped; it needs the database's size free on the
    disk). PostgreSQL: `VACUUM (ANALYZE)` of the pruned tables, online (store/space.py says why)."""
    vacuum(conn, TABLES)


def utc_now() -> float:
    """Now in epoch seconds (a seam for the CLI and the component)."""
    return datetime.now(UTC).timestamp()


def describe(windows: Windows) -> str:
    """The windows in words, for logs and the CLI."""
    return (
        f"events {windows.days:g}d, quota samples {windows.quota_sample_days:g}d,"
        f" trigger activity {windows.activity_days:g}d, Teams inbox {windows.inbox_days:g}d"
    )
