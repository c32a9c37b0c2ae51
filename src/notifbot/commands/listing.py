"""The notification list at any size: keyset pages of stored events, newest first, filtered, never counted.

Design: docs/design/first-hour.md §6. A page is `limit + 1` rows past a cursor (`before`: ids below it, newest first;
`after`: ids above it, oldest first, then reversed), so "older"/"newer" cost one row more and no OFFSET or count.
One filter that has an index is answered by it (store/event_list.py says which); everything else (`instance`, `q`,
the statuses acknowledged and delivered, or two filters together) is a bounded search: one request examines the
ids in [cursor - scan_rows, cursor) at most and says where it stopped, so its cost has a ceiling whatever matches.
An index's candidates are checked for the status they show (a pending delivery loses to a dead one): a request
checks scan_rows of them at most, and stops the same way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from notifbot.commands.marketo_queries import json_or
from notifbot.model import Notification
from notifbot.store import event_list
from notifbot.store.conn import Conn, Row
from notifbot.store.event_list import STATUSES, Filters, ListRequestError, Span
from notifbot.store.rows import notification_from_row

__all__ = [
    "MAX_BATCH",
    "SCAN_ROWS",
    "STATUSES",
    "Filters",
    "ListPage",
    "ListRequestError",
    "RecentRow",
    "Stop",
    "recent_page",
    "rows_by_id",
]

# Ids one bounded search examines per request, so that one window stays within 40 ms on both backends at 1,000,000
# events with room for a busy machine: a q that never matches reads it all, p50/p99 11/33 ms on SQLite and 14/21 ms
# on PostgreSQL at 15,000; 20,000 reached 38 ms (bench/console.py --windows, 2 cores shared with other work).
SCAN_ROWS = 15_000
MAX_BATCH = 1_000  # candidates confirmed per round when statuses must be checked row by row


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


def rows_by_id(conn: Conn, ids: Sequence[int]) -> list[RecentRow]:
    """These events (in the order given, missing ones left out) with what happened to them: index seeks only."""
    events = event_list.events_by_id(conn, ids)
    by_event = event_list.deliveries(conn, list(events))
    return [_recent_row(events[i], by_event[i]) for i in ids if i in events]


def _confirmed(conn: Conn, ids: list[int], status: str) -> list[int]:
    """The candidates whose own status is `status` (one delivery can outrank another: dead over pending, …).

    Candidates come from delivery rows, and a muted event never has one (store/events.py), so none is muted.
    """
    by_event = event_list.deliveries(conn, ids)
    if status == "grouped":
        return [i for i in ids if any(o["grouped"] for o in by_event[i])]
    shown = []
    for i in ids:
        rows = by_event[i]
        deliveries = Counter(str(o["status"]) for o in rows)
        if _status(False, deliveries, any(o["acked_by"] for o in rows)) == status:
            shown.append(i)
    return shown


def _stop(conn: Conn, span: Span) -> Stop | None:
    """Where a window that ran out continues, or None when nothing lies beyond it."""
    found = event_list.beyond(conn, span)
    return None if found is None else Stop(*found)


def _span(conn: Conn, f: Filters, before: int | None, after: int | None, scan_rows: int) -> Span | None:
    """The ids this request may examine; None when a bounded search starts on an empty table."""
    older = after is None
    cursor = before if older else after
    if not f.bounded:
        return Span(older, cursor, None)
    if cursor is None:  # the newest page: the window ends at the newest id
        newest = event_list.newest_id(conn)
        if newest is None:
            return None
        cursor = newest + 1
    return Span(older, cursor, cursor - scan_rows if older else cursor + scan_rows)


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
        ids = event_list.candidates(conn, filters, position, n)
        found += _confirmed(conn, ids, str(filters.status)) if confirm else ids
        examined += len(ids)
        more = len(ids) == n
        if more and len(found) <= limit and examined >= scan_rows:
            # as many candidates as a window holds, too few of them showing the status asked for
            capped = ids[-1]
            break
        if more:
            position, n = position.past(ids[-1]), min(2 * n, MAX_BATCH)
    shown = rows_by_id(conn, found[:limit])
    full = len(found) > limit
    stopped = Stop(capped, event_list.received_at(conn, capped)) if capped is not None else None
    if not full and capped is None and span.bound is not None:
        stopped = _stop(conn, span)
    onward = found[limit - 1] if full else (stopped.cursor if stopped else None)
    if span.older:
        back = (found[0] if found else before - 1) if before is not None else None
        return ListPage(shown, onward, back, stopped)
    back = found[0] if found else (after + 1 if after is not None else None)
    return ListPage(shown[::-1], back, onward, stopped)
