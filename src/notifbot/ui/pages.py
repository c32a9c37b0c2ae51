"""The console's pages: each is a path, a template and a context function (store reads → template values).

To add a page: write `async def my_page(view: View) -> dict[str, object]`, add `templates/my_page.html` (extending
`base.html`) and one `Page(...)` to `PAGES`. `console.py` routes every page behind the sign-in, and the navigation
lists the ones with `nav=True`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifbot.store import outbox
from notifbot.store.runner import Database
from notifbot.ui.auth import Session
from notifbot.ui.queries import list_pending

ROWS_SHOWN = 100


@dataclass(frozen=True)
class View:
    """What a page's context function reads: the store, the query string, the path's parameters, who is asking."""

    db: Database
    query: Mapping[str, str]
    params: Mapping[str, Any]
    session: Session
    now: float

    @property
    def admin(self) -> bool:
        return self.session.role == "admin"

    def number(self, name: str) -> int | None:
        """A query parameter that must be a non-negative integer (ids in notices), else None."""
        value = self.query.get(name, "")
        return int(value) if value.isdigit() and len(value) < 19 else None


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
    """Dead rows (the default) or pending ones, newest first; Retry on dead rows for admins."""
    status = "pending" if view.query.get("status") == "pending" else "dead"
    if status == "pending":
        rows: list[Any] = await view.db.read(list_pending, ROWS_SHOWN)
    else:
        rows = await view.db.read(outbox.list_dead, ROWS_SHOWN)
    return {
        "status": status,
        "rows": rows,
        "limit": ROWS_SHOWN,
        "can_retry": status == "dead" and view.admin,
        "requeued": view.number("requeued"),
        "missing": view.number("missing"),
    }


PAGES: tuple[Page, ...] = (
    Page("/", "home.html", "Overview", overview),
    Page("/outbox", "outbox.html", "Outbox", outbox_rows),
)
