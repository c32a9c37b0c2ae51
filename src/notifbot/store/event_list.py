"""The SQL behind the notification list (commands/listing.py): which index answers a filter, and the candidates.

A filter one index answers pages through that index: `kind` (events_kind, (kind, id)), `status` muted
(events_muted, id where muted), dead and pending (outbox_open, (status, event_id, id)), grouped (the group and digest
membership indexes on event_id). Any other filter is `bounded`: the list searches a window of ids instead. Every
statement reads an ordered range and stops after its LIMIT (tests/unit/commands/test_listing.py counts the work).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from notifbot.errors import NotifbotError
from notifbot.store.conn import Conn, Row
from notifbot.store.dialect import dialect_of

STATUSES = ("delivered", "pending", "muted", "dead", "acknowledged", "grouped")


class ListRequestError(NotifbotError):
    """A notification list request that cannot be answered as asked (unknown status, both cursors, bad limit)."""


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
class Span:
    """The ids one request may examine, past `cursor` in its direction, down to (or up to) `bound` when bounded."""

    older: bool
    cursor: int | None  # None: from the newest (older) or the oldest (newer) end
    bound: int | None

    def terms(self, column: str) -> tuple[list[str], list[Any]]:
        """The conditions keeping `column` in the span, and their arguments."""
        terms: list[str] = []
        args: list[Any] = []
        if self.cursor is not None:
            terms.append(f"{column} {'<' if self.older else '>'} ?")
            args.append(self.cursor)
        if self.bound is not None:
            terms.append(f"{column} {'>=' if self.older else '<='} ?")
            args.append(self.bound)
        return terms, args

    def past(self, cursor: int) -> Span:
        """The rest of the span once `cursor` has been examined."""
        return Span(self.older, cursor, self.bound)

    @property
    def order(self) -> str:
        """The span's direction as SQL orders it."""
        return "DESC" if self.older else "ASC"


# The delivery row `o` that gives an event each status (the status it shows is checked after: commands/listing.py)
_CONDITIONS = {
    "dead": "o.status = 'dead'",
    "pending": "o.status = 'pending'",
    "acknowledged": "o.acked_by IS NOT NULL",
    "delivered": "o.status = 'delivered' AND o.acked_by IS NULL",
    "grouped": "",
}
# How an event comes to have a delivery row, as (FROM, the event id column, condition): its own row, or the row of
# the alert group or digest that delivered it
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


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


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
        columns = ("summary", "kind", "instance", "key")
        if dialect_of(conn).name == "postgresql":
            # lower() under the "C" collation changes ASCII letters only, as SQLite's LIKE ignores their case only;
            # strpos on it costs two thirds of ILIKE, a third of ILIKE under the database's locale (bench/console.py)
            terms.append(
                "(" + " OR ".join(f'strpos(lower({e}.{c} COLLATE "C"), ?) > 0' for c in columns) + ")"
            )
            args += [f.q.translate(_ASCII_LOWER)] * len(columns)
        else:
            terms.append("(" + " OR ".join(f"{e}.{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
            args += [_like(f.q)] * len(columns)
    return terms, args


def candidates(conn: Conn, f: Filters, span: Span, n: int) -> list[int]:
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


def newest_id(conn: Conn) -> int | None:
    """The newest stored event's id, or None when there is none."""
    row = conn.execute("SELECT max(id) FROM events").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def beyond(conn: Conn, span: Span) -> tuple[int, str | None] | None:
    """Past a window that ran out: the cursor to continue from (skipping any gap in the ids) and the receive time
    of the last event the window held (None when it held none); None when no event lies beyond it."""
    assert span.bound is not None and span.cursor is not None
    if span.older:
        next_id = conn.execute(
            "SELECT id FROM events WHERE id < ? ORDER BY id DESC LIMIT 1", (span.bound,)
        ).fetchone()
        last = conn.execute(
            "SELECT received_at FROM events WHERE id >= ? AND id < ? ORDER BY id LIMIT 1",
            (span.bound, span.cursor),
        ).fetchone()
        cursor = None if next_id is None else int(next_id[0]) + 1
    else:
        next_id = conn.execute(
            "SELECT id FROM events WHERE id > ? ORDER BY id LIMIT 1", (span.bound,)
        ).fetchone()
        last = conn.execute(
            "SELECT received_at FROM events WHERE id <= ? AND id > ? ORDER BY id DESC LIMIT 1",
            (span.bound, span.cursor),
        ).fetchone()
        cursor = None if next_id is None else int(next_id[0]) - 1
    return None if cursor is None else (cursor, None if last is None else str(last[0]))


def deliveries(conn: Conn, ids: Sequence[int]) -> dict[int, list[Row]]:
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


def events_by_id(conn: Conn, ids: Sequence[int]) -> dict[int, Row]:
    """These events' rows with their mute's kind and author (`mute_kind`, `mute_author`); missing ones left out."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {
        int(r["id"]): r
        for r in conn.execute(
            "SELECT e.*, m.kind AS mute_kind, m.author AS mute_author FROM events e"
            f" LEFT JOIN mutes m ON m.id = e.muted_by WHERE e.id IN ({marks})",
            list(ids),
        )
    }


def received_at(conn: Conn, event_id: int) -> str | None:
    """When this event was received, or None when it is gone."""
    row = conn.execute("SELECT received_at FROM events WHERE id = ?", (event_id,)).fetchone()
    return None if row is None else str(row[0])
