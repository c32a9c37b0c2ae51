"""The console's notification pages: the list (keyset pages of `recent_page`, filters, the bounded search's
continuation) and one notification (its fields, its deliveries, its Slack and Teams messages as the bot writes them).

Pure functions of the store (run on the reader thread through `Database.read`, so describing 50 rows never holds up
the event loop) and of the query string; `pages.py` registers them. Every value here reaches the page through
autoescaping templates, except the message views, which render/slack_html.py and render/card_html.py escape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from notifbot.commands.listing import STATUSES, Filters, ListPage, RecentRow, recent_page, rows_by_id
from notifbot.config.preview import Preview
from notifbot.iso_time import parse_time
from notifbot.kinds import KINDS, describe
from notifbot.model import Acked, Notification
from notifbot.render.card_html import render_card_html
from notifbot.render.slack_html import render_slack_html
from notifbot.store.conn import Conn
from notifbot.store.event_detail import Delivery, deliveries_of
from notifbot.text import one_line
from notifbot.ui.status import Moment, moment

PAGE_SIZE = 50
MAX_FILTER_CHARS = 200  # longer filter text is cut: no stored kind, instance or summary word is that long
KIND_OPTIONS = tuple(sorted(kind.value for kind in KINDS))
STATUS_OPTIONS = STATUSES
FILTERS = ("kind", "instance", "status", "q")


def when(value: object, now: float) -> Moment | None:
    """A stored ISO 8601 time (`received_at`, `occurred_at`) as the console pages show times; None if unreadable."""
    at = parse_time(value)
    return moment(at, datetime.fromtimestamp(now, UTC)) if at is not None else None


def title_of(row: RecentRow) -> str:
    """The title the notification's message carries (as `/marketo recent` shows it), else its kind."""
    if row.notification is None:
        return f"{row.kind} notification"
    try:
        return one_line(describe(row.notification).title) or row.kind
    except Exception:  # one unreadable notification never hides the list
        return f"{row.kind} notification"


def status_class(status: str) -> str:
    """The CSS class showing a status in colour (the status is always written out too)."""
    return "status-" + status.replace(" ", "-")


# -- the list


@dataclass(frozen=True)
class Item:
    """One row of the notification list as the page shows it."""

    id: int
    received: Moment | None
    kind: str
    title: str
    instance: str
    summary: str
    status: str
    status_class: str
    grouped: str | None  # "×3 group, firing" / "in a digest"


@dataclass(frozen=True)
class Request:
    """What the list was asked for: its filters (as typed, cut to size) and one cursor at most."""

    filters: Mapping[str, str]
    before: int | None
    after: int | None
    problem: str | None = None  # what in the query was ignored, and why

    def list_filters(self) -> Filters:
        """The filters as `recent_page` takes them."""
        return Filters(**{name: self.filters.get(name) or None for name in FILTERS})

    def href(self, **cursor: int) -> str:
        """This list's path with another cursor (`before=` or `after=`; none: the newest page), under the console."""
        query = urlencode({**{k: v for k, v in self.filters.items() if v}, **cursor})
        return f"/notifications?{query}" if query else "/notifications"


def _cursor(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def request_of(query: Mapping[str, str]) -> Request:
    """The list request a query string asks for; an unknown status or a second cursor is ignored and said so."""
    filters = {name: query.get(name, "").strip()[:MAX_FILTER_CHARS] for name in FILTERS}
    problems = []
    if filters["status"] and filters["status"] not in STATUS_OPTIONS:
        problems.append(f"Unknown status {filters['status']!r}: showing every status.")
        filters["status"] = ""
    before, after = _cursor(query, "before"), _cursor(query, "after")
    if before is not None and after is not None:
        problems.append("A page has one cursor: showing the older page.")
        after = None
    return Request(filters, before, after, " ".join(problems) or None)


def item_of(row: RecentRow, now: float) -> Item:
    """A stored notification as a row of the list."""
    n = row.notification
    summary = n.summary if n is not None and n.summary else ""
    return Item(
        id=row.event_id,
        received=when(row.received_at, now),
        kind=row.kind,
        title=title_of(row),
        instance=row.instance or "",
        summary=one_line(summary),
        status=row.status,
        status_class=status_class(row.status),
        grouped=row.grouped,
    )


def list_page(conn: Conn, request: Request, now: float) -> tuple[ListPage, list[Item]]:
    """One page of the list and its rows as shown (on the reader thread: the rows are described here)."""
    page = recent_page(conn, request.list_filters(), request.before, request.after, PAGE_SIZE)
    return page, [item_of(row, now) for row in page.rows]


def list_values(page: ListPage, items: Sequence[Item], request: Request) -> dict[str, object]:
    """What notifications.html shows for this page: rows, the filter form's values, the keyset links."""
    older = request.href(before=page.older) if page.older is not None else None
    newer = request.href(after=page.newer) if page.newer is not None else None
    stopped = None
    if page.stopped is not None:  # the way onward continues the search: one link, "Search older" (or newer)
        backwards = request.after is None
        stopped = {
            "backwards": backwards,
            "reached": page.stopped.reached,
            "href": older if backwards else newer,
        }
        older, newer = (None, newer) if backwards else (older, None)
    return {
        "items": list(items),
        "filters": request.filters,
        "filtered": any(request.filters.values()),
        "kinds": KIND_OPTIONS,
        "statuses": STATUS_OPTIONS,
        "older": older,
        "newer": newer,
        "newest": request.href() if (request.before is not None or request.after is not None) else None,
        "stopped": stopped,
        "problem": request.problem,
        "page_size": PAGE_SIZE,
    }


# -- one notification


@dataclass(frozen=True)
class DeliveryView:
    """One outbox row carrying the notification, as the page shows it."""

    row: Delivery
    status_class: str
    shared: (
        str | None
    )  # how it went out with others: "alert group of 3 (firing)", "digest of 5 (kind=crm_sync)"


@dataclass(frozen=True)
class Detail:
    """One stored notification with what happened to it, read in one go."""

    row: RecentRow
    deliveries: list[Delivery]


def detail_of(conn: Conn, event_id: int) -> Detail | None:
    """The notification with this id and every outbox row carrying it; None when no event has the id."""
    rows = rows_by_id(conn, [event_id])
    return Detail(rows[0], deliveries_of(conn, event_id)) if rows else None


def shared_text(d: Delivery) -> str | None:
    """How a delivery carries this notification together with others, in words; None for its own message."""
    if d.via == "group":
        return f"alert group of {d.count} ({d.state})"
    if d.via == "digest":
        return f"digest of {d.count} ({d.label})"
    return None


def acked_of(deliveries: Sequence[Delivery]) -> Acked | None:
    """The first acknowledgement of the notification's own message, as its posted message now shows it."""
    acks = sorted(
        (d.acked_at, d.acked_by) for d in deliveries if d.via == "own" and d.acked_by and d.acked_at
    )
    if not acks:
        return None
    at, by = acks[0]
    assert at is not None and by is not None
    return Acked(by, datetime.fromtimestamp(at, UTC))


def envelope(row: RecentRow) -> list[tuple[str, object]]:
    """The notification's own fields (not its kind's `fields`), as label and value."""
    n = row.notification
    pairs: list[tuple[str, object]] = [("Id", row.event_id)]
    if n is not None:
        pairs += [("Key", n.key), ("Kind", n.kind_label), ("Severity", n.severity.value)]
        pairs += [("Source", n.source), ("State", n.status)]
    else:
        pairs += [("Kind", row.kind)]
    pairs += [("Instance", row.instance or "")]
    if n is not None and n.summary:
        pairs.append(("Summary", n.summary))
    return pairs


def values_of(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A mapping's items as text, sorted by name (nested values as JSON)."""
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))
        for k, v in sorted(data.items(), key=lambda kv: str(kv[0]))
    ]


def previews(n: Notification | None, preview: Preview | None, acked: Acked | None) -> dict[str, object]:
    """The Slack message and the Teams card the bot writes for `n`, as HTML, or why they cannot be shown."""
    if n is None:
        why = "This notification can no longer be read as the bot reads it, so its messages cannot be shown."
    elif preview is None:
        why = "This console was started without the bot's message settings, so messages cannot be shown."
    else:
        return {
            "slack_html": render_slack_html(preview.slack(n, acked)),
            "teams_html": render_card_html(preview.teams(n, acked)),
            "no_preview": None,
        }
    return {"slack_html": None, "teams_html": None, "no_preview": why}


def detail_values(detail: Detail, preview: Preview | None, admin: bool, now: float) -> dict[str, object]:
    """What notification.html shows: fields, deliveries per destination (Retry on dead ones for admins), previews."""
    row, n = detail.row, detail.row.notification
    views = [DeliveryView(d, status_class(d.status), shared_text(d)) for d in detail.deliveries]
    return {
        "event": row,
        "heading": title_of(row),
        "envelope": envelope(row),
        "occurred": when(row.occurred_at, now),
        "received": when(row.received_at, now),
        "status": row.status,
        "status_class": status_class(row.status),
        "fields": values_of(row.fields),
        "labels": values_of(n.labels) if n is not None else [],
        "deliveries": views,
        "can_retry": admin,
        "in_group": any(d.via != "own" for d in detail.deliveries),
        **previews(n, preview, acked_of(detail.deliveries)),
    }
