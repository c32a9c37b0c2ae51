"""The console's pages: each is a path, a template and a context function (store reads → template values).

To add a page: write `async def my_page(view: View) -> dict[str, object]`, add `templates/my_page.html` (extending
`base.html`) and one `Page(...)` to `PAGES`. `console.py` routes every page behind the sign-in, and the navigation
lists the ones with `nav=True`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from notifbot.central_time import last_central_midnight
from notifbot.commands.queries import quota_overview
from notifbot.config.preview import Preview
from notifbot.errors import NotifbotError
from notifbot.store import outbox
from notifbot.store.mutes import active_mutes
from notifbot.store.runner import Database
from notifbot.ui import notifications
from notifbot.ui.auth import Session
from notifbot.ui.quota import QuotaPanel, quota_panels
from notifbot.ui.status import GROUPS, failing_first, mute_lines, open_groups, poller_lines

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
    """Outbox depth, open alert groups, mutes, pollers and quota at a glance: index reads, never a count of events."""
    now = _aware(view)
    depth = await view.db.read(outbox.depth_by_type)
    types = sorted({dest_type for dest_type, _ in depth})
    rows = [(t, depth.get((t, "pending"), 0), depth.get((t, "dead"), 0)) for t in types]
    return {
        "rows": rows,
        "pending": sum(p for _, p, _ in rows),
        "dead": sum(d for _, _, d in rows),
        "groups": await view.db.read(open_groups, now),
        "mutes": len(await view.db.read(active_mutes, now)),
        "pollers": failing_first(await view.db.read(poller_lines, now)),
        "panels": await _panels(view, now),
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


def _aware(view: View) -> datetime:
    """The request's time as an aware datetime (the status reads compare with Central days and mute ends)."""
    return datetime.fromtimestamp(view.now, UTC)


async def _panels(view: View, now: datetime) -> list[QuotaPanel]:
    """Each sampled instance's quota panel: its samples since the last reset at 00:00 CT."""
    views = await view.db.read(quota_overview, last_central_midnight(now).timestamp())
    return quota_panels(views, now)


async def mutes_in_force(view: View) -> dict[str, object]:
    """The mutes in force, soonest expiry first."""
    now = _aware(view)
    return {"mutes": mute_lines(await view.db.read(active_mutes, now), now)}


async def pollers(view: View) -> dict[str, object]:
    """What every poller last recorded: Marketo per instance, mailboxes, the Adobe I/O journal."""
    lines = await view.db.read(poller_lines, _aware(view))
    return {"groups": [(group, [line for line in lines if line.group == group]) for group in GROUPS]}


async def quota(view: View) -> dict[str, object]:
    """Per Marketo instance: today's chart, forecast, reset, and the samples as a table."""
    return {"panels": await _panels(view, _aware(view))}


PAGES: tuple[Page, ...] = (
    Page("/", "home.html", "Overview", overview),
    Page("/notifications", "notifications.html", "Notifications", notification_list),
    Page("/notifications/{event:int}", "notification.html", "Notification", notification_detail, nav=False),
    Page("/outbox", "outbox.html", "Outbox", outbox_rows),
    Page("/mutes", "mutes.html", "Mutes", mutes_in_force),
    Page("/pollers", "pollers.html", "Pollers", pollers),
    Page("/quota", "quota.html", "Quota", quota),
)
