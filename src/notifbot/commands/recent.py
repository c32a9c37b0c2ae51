"""`recent [kind] [n]`: the latest notifications with what happened to them, and a link where there is one."""

from __future__ import annotations

import logging

from notifbot.commands.common import command_name, plural, when_ts
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.queries import COUNT_CAP, RecentRow, recent
from notifbot.kinds import describe
from notifbot.links import LinkPolicy, safe_url
from notifbot.replies import Item, Reply, Section
from notifbot.text import as_text, format_when, one_line

log = logging.getLogger("notifbot.commands.recent")


def _status(row: RecentRow) -> str:
    total = sum(row.deliveries.values())
    if row.status == "muted":
        by = f" by {row.mute_author}" if row.mute_author else ""
        return f"muted ({row.mute_kind} mute{by})" if row.mute_kind else "muted"
    if row.status == "acknowledged":
        return f"acknowledged by {row.acked_by} · {when_ts(row.acked_at, '')}".rstrip(" ·")
    if row.status in ("dead", "pending") and total > 1:
        return f"{row.status} ({row.deliveries.get(row.status, 0)} of {total} deliveries)"
    if row.status == "not routed":
        return "stored (no destination)"
    return row.status


def _line(row: RecentRow, links: LinkPolicy) -> tuple[str, str | None]:
    if row.notification is None:
        return f"{row.kind} notification", None
    parts = describe(row.notification, links)
    fields = row.fields
    url = parts.url or safe_url(fields.get("url")) or safe_url(fields.get("errors_url"))
    return one_line(parts.title) or row.kind, url


def _item(row: RecentRow, links: LinkPolicy) -> Item:
    try:
        title, url = _line(row, links)
    except Exception:  # one unreadable notification never hides the others
        log.exception("could not describe a stored notification", extra={"event_id": row.event_id})
        title, url = f"{row.kind} notification", None
    n = row.notification
    where = as_text(n.instance) if n is not None and n.instance else None
    status = _status(row) + (f" ({row.grouped})" if row.grouped else "")
    detail = [status, row.kind, where, format_when(n.occurred_at if n is not None else row.occurred_at)]
    return Item(title, url=url, detail=" · ".join(d for d in detail if d))


async def recent_reply(inv: Invocation, ctx: CommandContext, kind: str | None, limit: int) -> Reply:
    """The newest `limit` notifications (of `kind`), newest first, with status and link."""
    page = await ctx.db.read(recent, kind, limit)
    what = f"{kind} notifications" if kind else "notifications"
    if not page.rows:
        text = f"No {what} stored yet." + (
            ""
            if kind
            else " notifbot lists what arrives at `POST /hooks/events` (and from the Marketo pollers)."
        )
        return Reply(f"Recent {what}", (Section(text=text),))
    stored = f"more than {COUNT_CAP:,}" if page.capped else f"{page.total:,}"
    text = f"The latest {plural(len(page.rows), what[:-1], what)} of {stored} stored, newest first."
    footer = (
        f"Status: delivered, pending, dead (see `notifbot outbox list`), muted (stored, not posted) or "
        f"acknowledged. `{command_name(inv, ctx)} recent <kind> <n>` narrows the list (up to 50)."
    )
    items = tuple(_item(row, ctx.links) for row in page.rows)
    return Reply(f"Recent {what}", (Section(text=text, items=items),), footer=footer)
