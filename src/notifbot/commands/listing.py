"""The notification list at any size: keyset pages of stored events, newest first, filtered, never counted.

Design: docs/design/first-hour.md §6. A page is `limit + 1` rows past a cursor (`before`: ids below it, newest first;
`after`: ids above it, oldest first, then reversed), so "older"/"newer" cost one row more and no OFFSET or count.
One filter that has an index is answered by it: `kind` (events_kind, (kind, id)), `status` muted (events_muted),
dead and pending (outbox_open), grouped (the group and digest membership indexes). Everything else (`instance`,
`q`, the statuses acknowledged and delivered, or two filters together) is a bounded search: one request examines the
ids in [cursor - scan_rows, cursor) at most and says where it stopped, so its cost has a ceiling whatever matches.
An index's candidates are checked for the status they show (a pending delivery loses to a dead one): a request
checks scan_rows of them at most, and stops the same way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from notifbot.commands.marketo_queries import json_or
from notifbot.errors import NotifbotError
from notifbot.model import Notification
from notifbot.store.conn import Conn, Row
from notifbot.store.dialect import dialect_of
from notifbot.store.rows import notification_from_row

STATUSES = ("delivered", "pending", "muted", "dead", "acknowledged", "grouped")
# Ids one bounded search examines per request, so that one window stays within 40 ms on both backends at 1,000,000
# events (bench/console.py --windows, a q that never matches, 2 shared cores): PostgreSQL p50/p99 21/30 ms at 15,000
# and 29/35 ms at 20,000 (too near), SQLite 12/29 and 20/28 ms.
SCAN_ROWS = 15_000
MAX_BATCH = 1_000  # candidates confirmed per round when statuses must be checked row by row


class ListRequestError(NotifbotError):
    """A notification list request that cannot be answered as asked (unknown status, both cursors, bad limit)."""


@dataclass(frozen=True)
class RecentRow:
    """One stored notification and what happened to it (status: muted/dead/acknowledged/pending/delivered)."""

    event_id: int
    kind: str
    notification: Notification | None
    fields: dict[str, Any]
    occurred_at: str
    status: str
    deliveries: dict[str, int] = field(default_factory=dict)
    acked_by: str | None = None
    acked_at: float | None = None
    mute_kind: str | None = None
    mute_author: str | None = None
    grouped: str | None = None  # "×200 group, firing" / "in a digest": delivered as one message with others
    instance: str | None = None
    received_at: str | None = None


@dataclass(frozen=True)
class Filters:
    """What the list shows: each set field narrows it (`q`: text in the summary, kind, instance or event key)."""

    kind: str | None = None
    instance: str | None = None
    status: str | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUSES:
            raise ListRequestError(f"unknown status {self.status!r}: use one of {', '.join(STATUSES)}")

    @property
    def bounded(self) -> bool:
        """True when no single index answers this filter: each request searches `scan_rows` ids at most."""
        if self.instance or self.q or self.status in ("acknowledged", "delivered"):
            return True
        return bool(self.kind and self.status)


@dataclass(frozen=True)
class Stop:
    """Where a bounded search ran out before the page filled: continue from `cursor`; `reached` is the receive time
    of the last event it examined ("searched back to …"), None when its window held no event."""

    cursor: int
    reached: str | None


@dataclass(frozen=True)
class ListPage:
    """One page of the list, newest first, with the cursors of its neighbours (None: nothing there).

    `older` goes in `before`, `newer` in `after`. When `stopped` is set, the search window ran out before the page
    filled: more may match beyond it, and the cursor in that direction continues the search from `stopped.cursor`.
    """

    rows: list[RecentRow]
    older: int | None
    newer: int | None
    stopped: Stop | None = None


def _status(muted: bool, deliveries: Counter[str], acked: bool) -> str:
    if muted:
        return "muted"
    if not deliveries:
        return "not routed"
    if deliveries["dead"]:
        return "dead"
    if acked:
        return "acknowledged"
    return "pending" if deliveries["pending"] else "delivered"


def _recent_row(r: Row, outbox: list[Row]) -> RecentRow:
    try:
        n: Notification | None = notification_from_row(r)
    except (ValueError, TypeError, KeyError):
        n = None
    deliveries = Counter(str(o["status"]) for o in outbox)
    acks = sorted((o["acked_at"] or 0.0, str(o["acked_by"])) for o in outbox if o["acked_by"])
    return RecentRow(
        event_id=int(r["id"]),
        kind=str(r["original_kind"] or r["kind"]),
        notification=n,
        fields=dict(n.fields) if n is not None else json_or(r["fields"], {}),
        occurred_at=str(r["occurred_at"]),
        status=_status(r["muted_by"] is not None, deliveries, bool(acks)),
        deliveries=dict(deliveries),
        acked_by=acks[0][1] if acks else None,
        acked_at=acks[0][0] if acks else None,
        mute_kind=r["mute_kind"],
        mute_author=r["mute_author"],
        grouped=next((str(o["grouped"]) for o in outbox if o["grouped"]), None),
        instance=r["instance"],
        received_at=r["received_at"],
    )


def _deliveries(conn: Conn, ids: Sequence[int]) -> dict[int, list[Row]]:
    """Each event's delivery rows (its own, or its alert group's or digest's): seeks by event id only."""
    by_event: dict[int, list[Row]] = {i: [] for i in ids}
    if not ids:
        return by_event
    marks = ",".join("?" * len(ids))
    for o in conn.execute(
        f"SELECT event_id, status, acked_by, acked_at, NULL AS grouped FROM outbox"
        f" WHERE event_id IN ({marks}) AND group_id IS NULL AND digest_id IS NULL"
        # an event in an alert group or a digest is delivered by that message's row
        " UNION ALL SELECT ge.event_id, o.status, o.acked_by, o.acked_at,"
        " '×' || g.count || ' group, ' || g.state FROM alert_group_events ge"
        " JOIN alert_groups g ON g.id = ge.group_id JOIN outbox o ON o.group_id = g.id"
        f" WHERE ge.event_id IN ({marks})"
        " UNION ALL SELECT de.event_id, o.status, o.acked_by, o.acked_at, 'in a digest' FROM digest_events de"
        f" JOIN outbox o ON o.digest_id = de.digest_id WHERE de.event_id IN ({marks})",
        [*ids, *ids, *ids],
    ):
        by_event[int(o["event_id"])].append(o)
    return by_event


def rows_by_id(conn: Conn, ids: Sequence[int]) -> list[RecentRow]:
    """These events (in the order given, missing ones left out) with what happened to them: index seeks only."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    events = {
        int(r["id"]): r
        for r in conn.execute(
            "SELECT e.*, m.kind AS mute_kind, m.author AS mute_author FROM events e"
            f" LEFT JOIN mutes m ON m.id = e.muted_by WHERE e.id IN ({marks})",
            list(ids),
        )
    }
    by_event = _deliveries(conn, list(events))
    return [_recent_row(events[i], by_event[i]) for i in ids if i in events]


def _confirmed(conn: Conn, ids: list[int], status: str) -> list[int]:
    """The candidates whose own status is `status` (one delivery can outrank another: dead over pending, …).

    Candidates come from delivery rows, and a muted event never has one (store/events.py), so none is muted.
    """
    by_event = _deliveries(conn, ids)
    if status == "grouped":
        return [i for i in ids if any(o["grouped"] for o in by_event[i])]
    shown = []
    for i in ids:
        rows = by_event[i]
        deliveries = Counter(str(o["status"]) for o in rows)
        if _status(False, deliveries, any(o["acked_by"] for o in rows)) == status:
            shown.append(i)
    return shown


# How an event comes to have each status, as (FROM, the event id column, condition on the outbox row `o`): its own
# row, or the row of the alert group or digest that delivered it.
_CONDITIONS = {
    "dead": "o.status = 'dead'",
    "pending": "o.status = 'pending'",
    "acknowledged": "o.acked_by IS NOT NULL",
    "delivered": "o.status = 'delivered' AND o.acked_by IS NULL",
    "grouped": "",
}
_OWN = "outbox o", "o.event_id", "o.group_id IS NULL AND o.digest_id IS NULL"
_WAYS = (
    _OWN,
    ("alert_group_events x JOIN outbox o ON o.group_id = x.group_id", "x.event_id", ""),
    ("digest_events x JOIN outbox o ON o.digest_id = x.digest_id", "x.event_id", ""),
)
# Only an event's own rows are read through outbox_open, in event order (SQLite uses a partial index when the query
# repeats its predicate): a group's or digest's rows are few and found through outbox_group and outbox_digest,
# where walking 100,000 open rows of an outage to find them would not be.
_OPEN_ROWS = "o.status IN ('pending', 'dead')"


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere (its own `%`, `_` and `\\` taken literally)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _event_terms(conn: Conn, f: Filters, e: str) -> tuple[list[str], list[Any]]:
    """The conditions on events row `e` for kind, instance and q (text anywhere, ASCII letters in either case)."""
    terms: list[str] = []
    args: list[Any] = []
    if f.kind:
        terms.append(f"{e}.kind = ?")
        args.append(f.kind)
    if f.instance:
        terms.append(f"{e}.instance = ?")
        args.append(f.instance)
    if f.status == "muted":
        terms.append(f"{e}.muted_by IS NOT NULL")
    if f.q:
        # SQLite's LIKE ignores the case of ASCII letters only; ILIKE under the "C" collation does the same, and
        # costs a third of ILIKE under the database's locale (bench/console.py: a window of 20,000 rows)
        like = 'COLLATE "C" ILIKE' if dialect_of(conn).name == "postgresql" else "LIKE"
        columns = ("summary", "kind", "instance", "key")
        terms.append("(" + " OR ".join(f"{e}.{c} {like} ? ESCAPE '\\'" for c in columns) + ")")
        args += [_like(f.q)] * len(columns)
    return terms, args


@dataclass(frozen=True)
class _Range:
    """The ids one request may examine, past `cursor` in its direction, down to (or up to) `bound` when bounded."""

    older: bool
    cursor: int | None  # None: from the newest (older) or the oldest (newer) end
    bound: int | None

    def terms(self, column: str) -> tuple[list[str], list[Any]]:
        terms: list[str] = []
        args: list[Any] = []
        if self.cursor is not None:
            terms.append(f"{column} {'<' if self.older else '>'} ?")
            args.append(self.cursor)
        if self.bound is not None:
            terms.append(f"{column} {'>=' if self.older else '<='} ?")
            args.append(self.bound)
        return terms, args

    def past(self, cursor: int) -> _Range:
        return _Range(self.older, cursor, self.bound)

    @property
    def order(self) -> str:
        return "DESC" if self.older else "ASC"


def _candidates(conn: Conn, f: Filters, span: _Range, n: int) -> list[int]:
    """The next `n` ids in `span` that may match `f`, in the span's direction (every filter but the status done)."""
    event_terms, event_args = _event_terms(conn, f, "e")
    if not f.status or f.status == "muted":
        terms, args = span.terms("e.id")
        where = " AND ".join([*terms, *event_terms]) or "1 = 1"
        sql = f"SELECT e.id FROM events e WHERE {where} ORDER BY e.id {span.order} LIMIT ?"
        return [int(r[0]) for r in conn.execute(sql, [*args, *event_args, n])]
    condition = _CONDITIONS[f.status]
    arms: list[str] = []
    params: list[Any] = []
    for way in _WAYS:
        source, column, own = way
        if way == _OWN and f.status == "grouped":
            continue
        hint = _OPEN_ROWS if way == _OWN and f.status in ("dead", "pending") else ""
        terms, args = span.terms(column)
        join = f" JOIN events e ON e.id = {column}" if event_terms else ""
        where = " AND ".join(t for t in (own, hint, condition, *terms, *event_terms) if t) or "1 = 1"
        arms.append(
            f"SELECT eid FROM (SELECT DISTINCT {column} AS eid FROM {source}{join} WHERE {where}"
            f" ORDER BY eid {span.order} LIMIT ?) w{len(arms)}"
        )
        params += [*args, *event_args, n]
    sql = " UNION ".join(arms) + f" ORDER BY 1 {span.order} LIMIT ?"
    return [int(r[0]) for r in conn.execute(sql, [*params, n])]


def _edge(conn: Conn, older: bool) -> int | None:
    """The newest (older=True) or oldest stored id."""
    row = conn.execute(f"SELECT {'max' if older else 'min'}(id) FROM events").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _stop(conn: Conn, span: _Range) -> Stop | None:
    """Where to continue past a window that ran out (skipping any gap in the ids), or None at the end of the table."""
    assert span.bound is not None and span.cursor is not None
    if span.older:
        beyond = conn.execute(
            "SELECT id FROM events WHERE id < ? ORDER BY id DESC LIMIT 1", (span.bound,)
        ).fetchone()
        last = conn.execute(
            "SELECT received_at FROM events WHERE id >= ? AND id < ? ORDER BY id LIMIT 1",
            (span.bound, span.cursor),
        ).fetchone()
        return None if beyond is None else Stop(int(beyond[0]) + 1, None if last is None else str(last[0]))
    beyond = conn.execute("SELECT id FROM events WHERE id > ? ORDER BY id LIMIT 1", (span.bound,)).fetchone()
    last = conn.execute(
        "SELECT received_at FROM events WHERE id <= ? AND id > ? ORDER BY id DESC LIMIT 1",
        (span.bound, span.cursor),
    ).fetchone()
    return None if beyond is None else Stop(int(beyond[0]) - 1, None if last is None else str(last[0]))


def _capped(conn: Conn, last: int) -> Stop:
    """Where to continue after `last`, the last candidate examined when a request examined all it may."""
    row = conn.execute("SELECT received_at FROM events WHERE id = ?", (last,)).fetchone()
    return Stop(last, None if row is None else str(row[0]))


def _span(conn: Conn, f: Filters, before: int | None, after: int | None, scan_rows: int) -> _Range | None:
    """The ids this request may examine; None when a bounded search starts on an empty table."""
    older = after is None
    cursor = before if older else after
    if not f.bounded:
        return _Range(older, cursor, None)
    if cursor is None:  # the newest page: the window ends at the newest id
        newest = _edge(conn, older=True)
        if newest is None:
            return None
        cursor = newest + 1
    return _Range(older, cursor, cursor - scan_rows if older else cursor + scan_rows)


def recent_page(
    conn: Conn,
    filters: Filters,
    before: int | None,
    after: int | None,
    limit: int,
    *,
    scan_rows: int = SCAN_ROWS,
) -> ListPage:
    """Up to `limit` events matching `filters`, newest first: below `before`, above `after`, or the newest ones.

    Index-backed filters page through their index (`limit + 1` rows); the others search `scan_rows` ids per request
    and report where they stopped (see the module docstring). No count of anything.
    """
    if before is not None and after is not None:
        raise ListRequestError("give `before` or `after`, not both")
    if limit < 1 or scan_rows < 1:
        raise ListRequestError("limit and scan_rows must be at least 1")
    span = _span(conn, filters, before, after, scan_rows)
    if span is None:
        return ListPage([], None, None)
    confirm = filters.status not in (None, "muted")
    found: list[int] = []
    n, examined, more, position, capped = limit + 1, 0, True, span, None
    while more and len(found) <= limit:
        ids = _candidates(conn, filters, position, n)
        found += _confirmed(conn, ids, str(filters.status)) if confirm else ids
        examined += len(ids)
        more = len(ids) == n
        if more and len(found) <= limit and examined >= scan_rows:
            capped = ids[
                -1
            ]  # candidates an index gave that were not the status asked for: as many as a window
            break
        if more:
            position, n = position.past(ids[-1]), min(2 * n, MAX_BATCH)
    shown = rows_by_id(conn, found[:limit])
    full = len(found) > limit
    stopped = _capped(conn, capped) if capped is not None else None
    if not full and capped is None and span.bound is not None:
        stopped = _stop(conn, span)
    onward = found[limit - 1] if full else (stopped.cursor if stopped else None)
    if span.older:
        back = (found[0] if found else before - 1) if before is not None else None
        return ListPage(shown, onward, back, stopped)
    back = found[0] if found else (after + 1 if after is not None else None)
    return ListPage(shown[::-1], back, onward, stopped)
