"""The console's pages: each is a path, a template and a context function (store reads → template values).

To add a page: write `async def my_page(view: View) -> dict[str, object]`, add `templates/my_page.html` (extending
`base.html`) and one `Page(...)` to `PAGES`. `console.py` routes every page behind the sign-in, and the navigation
lists the ones with `nav=True`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from notifbot.config.preview import Preview
from notifbot.errors import NotifbotError
from notifbot.store import outbox
from notifbot.store.runner import Database
from notifbot.ui import notifications
from notifbot.ui.auth import Session

ROWS_SHOWN = 100


@dataclass(frozen=True)
class View:
    """What a page's context function reads: the store, the query string, the path's parameters, who is asking."""

    db: Database
    query: Mapping[str, str]
    params: Mapping[str, Any]
    session: Session
    now: float
    preview: Preview | None = None  # how the bot renders messages under this config (the notification page)

    @property
    def admin(self) -> bool:
        return self.session.role == "admin"

    def number(self, name: str) -> int | None:
        """A query parameter that must be a non-negative integer (ids in notices), else None."""
        value = self.query.get(name, "")
        return int(value) if value.isdigit() and len(value) < 19 else None


class PageError(NotifbotError):
    """A page that cannot be shown as asked: the HTTP status to answer with and what to tell the operator."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


Context = Callable[[View], Awaitable[dict[str, object]]]


@dataclass(frozen=True)
class Page:
    """One console page: its path under the console, its template, its title (heading and navigation), its data."""

    path: str
    template: str
    title: str
    context: Context
    nav: bool = True


async def overview(view: View) -> dict[str, object]:
    """Open outbox rows by destination type: the partial index of open rows, never a count of all events."""
    depth = await view.db.read(outbox.depth_by_type)
    types = sorted({dest_type for dest_type, _ in depth})
    rows = [(t, depth.get((t, "pending"), 0), depth.get((t, "dead"), 0)) for t in types]
    return {
        "rows": rows,
        "pending": sum(p for _, p, _ in rows),
        "dead": sum(d for _, _, d in rows),
    }


async def outbox_rows(view: View) -> dict[str, object]:
    """Dead rows (the default) or pending ones, newest event first, by keyset; Retry on dead rows for admins."""
    status = "pending" if view.query.get("status") == "pending" else "dead"
    before, after = view.number("before"), view.number("after")
    if before is not None:
        after = None
    rows: Sequence[outbox.DeadRow | outbox.PendingRow]
    if status == "pending":
        rows = await view.db.read(outbox.list_pending, ROWS_SHOWN + 1, before, after)
    else:
        rows = await view.db.read(outbox.list_dead, ROWS_SHOWN + 1, before, after)
    more = len(rows) > ROWS_SHOWN  # one row past the page: there is a next page that way
    if after is None:  # the page below the cursor (or the newest), newest first: the extra row is its oldest
        rows, older_exists, newer_exists = rows[:ROWS_SHOWN], more, before is not None
    else:  # the page above the cursor, still newest first: the extra row is its newest
        rows, older_exists, newer_exists = rows[-ROWS_SHOWN:], True, more
    tab = {"status": "pending"} if status == "pending" else {}

    def path(**cursor: int) -> str:
        query = urlencode({**tab, **cursor})
        return f"/outbox?{query}" if query else "/outbox"

    return {
        "status": status,
        "rows": rows,
        "limit": ROWS_SHOWN,
        "can_retry": status == "dead" and view.admin,
        "requeued": view.number("requeued"),
        "missing": view.number("missing"),
        "older": path(before=rows[-1].id) if rows and older_exists else None,
        "newer": path(after=rows[0].id) if rows and newer_exists else None,
        "newest": path() if before is not None or after is not None else None,
    }


async def notification_list(view: View) -> dict[str, object]:
    """The stored notifications, newest first, filtered, 50 a page by keyset (ui/notifications.py)."""
    request = notifications.request_of(view.query)
    page, items = await view.db.read(notifications.list_page, request, view.now)
    return notifications.list_values(page, items, request)


async def notification_detail(view: View) -> dict[str, object]:
    """One notification: its fields, its deliveries per destination, its Slack and Teams messages; 404 if none."""
    event_id = int(view.params["event"])
    detail = await view.db.read(notifications.detail_of, event_id) if event_id < 2**63 else None
    if detail is None:
        raise PageError(404, f"No notification {event_id} is stored: it never was, or it has been pruned.")
    return notifications.detail_values(detail, view.preview, view.admin, view.now)


PAGES: tuple[Page, ...] = (
    Page("/", "home.html", "Overview", overview),
    Page("/notifications", "notifications.html", "Notifications", notification_list),
    Page("/notifications/{event:int}", "notification.html", "Notification", notification_detail, nav=False),
    Page("/outbox", "outbox.html", "Outbox", outbox_rows),
)
