"""`recent [kind] [n]`: the latest notifications with what happened to them, and a link where there is one."""

from __future__ import annotations

import logging
import re

from notifbot.commands.common import command_name, group_state, when_ts
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.queries import COUNT_CAP, RecentRow, recent
from notifbot.i18n import EN, Texts
from notifbot.kinds import describe
from notifbot.links import LinkPolicy, safe_url
from notifbot.replies import Item, Reply, Section
from notifbot.text import as_text, one_line

log = logging.getLogger("notifbot.commands.recent")
_GROUPED = re.compile(r"×(\d+) group, (\w+)")  # as queries.recent words it in SQL


def _state(status: str, t: Texts) -> str:
    """A delivery status word in `t`'s language (unknown ones as stored)."""
    # TRANSLATORS: a notification's status in `/marketo recent`
    words = {
        "delivered": t.pgettext("status", "delivered"),
        "pending": t.pgettext("status", "pending"),
        "dead": t.pgettext("status", "dead"),
        "muted": t.pgettext("status", "muted"),
        "acknowledged": t.pgettext("status", "acknowledged"),
    }
    return words.get(status, status)


def _status(row: RecentRow, t: Texts) -> str:
    total = sum(row.deliveries.values())
    if row.status == "muted":
        if not row.mute_kind:
            return _state("muted", t)
        if row.mute_author:
            return t._("muted ({kind} mute by {author})").format(kind=row.mute_kind, author=row.mute_author)
        return t._("muted ({kind} mute)").format(kind=row.mute_kind)
    if row.status == "acknowledged":
        if row.acked_at is None:
            return t._("acknowledged by {user}").format(user=row.acked_by)
        return t._("acknowledged by {user} · {when}").format(user=row.acked_by, when=when_ts(row.acked_at, t))
    if row.status in ("dead", "pending") and total > 1:
        return t._("{status} ({n} of {total} deliveries)").format(
            status=_state(row.status, t), n=row.deliveries.get(row.status, 0), total=total
        )
    if row.status == "not routed":
        return t._("stored (no destination)")
    return _state(row.status, t)


def _line(row: RecentRow, links: LinkPolicy, t: Texts) -> tuple[str, str | None]:
    if row.notification is None:
        return t._("{kind} notification").format(kind=row.kind), None
    parts = describe(row.notification, links, t)
    fields = row.fields
    url = parts.url or safe_url(fields.get("url")) or safe_url(fields.get("errors_url"))
    return one_line(parts.title) or row.kind, url


def _item(row: RecentRow, links: LinkPolicy, t: Texts = EN) -> Item:
    try:
        title, url = _line(row, links, t)
    except Exception:  # one unreadable notification never hides the others
        log.exception("could not describe a stored notification", extra={"event_id": row.event_id})
        title, url = t._("{kind} notification").format(kind=row.kind), None
    n = row.notification
    where = as_text(n.instance) if n is not None and n.instance else None
    status = _status(row, t) + (f" ({_grouped(row.grouped, t)})" if row.grouped else "")
    detail = [status, row.kind, where, t.when(n.occurred_at if n is not None else row.occurred_at)]
    return Item(title, url=url, detail=" · ".join(d for d in detail if d))


async def recent_reply(inv: Invocation, ctx: CommandContext, kind: str | None, limit: int) -> Reply:
    """The newest `limit` notifications (of `kind`), newest first, with status and link."""
    page = await ctx.db.read(recent, kind, limit)
    t = inv.texts
    title = t._("Recent {kind} notifications").format(kind=kind) if kind else t._("Recent notifications")
    if not page.rows:
        if kind:
            text = t._("No {kind} notifications stored yet.").format(kind=kind)
        else:
            text = t._(
                "No notifications stored yet. notifbot lists what arrives at `POST /hooks/events` (and from the "
                "Marketo pollers)."
            )
        return Reply(title, (Section(text=text),))
    stored = t._("more than {n}").format(n=t.count(COUNT_CAP)) if page.capped else t.count(page.total)
    n = len(page.rows)
    if kind:
        latest = t.ngettext(
            "The latest {n} {kind} notification of {stored} stored, newest first.",
            "The latest {n} {kind} notifications of {stored} stored, newest first.",
            n,
        )
    else:
        latest = t.ngettext(
            "The latest {n} notification of {stored} stored, newest first.",
            "The latest {n} notifications of {stored} stored, newest first.",
            n,
        )
    text = latest.format(n=t.count(n), kind=kind, stored=stored)
    footer = t._(
        "Status: delivered, pending, dead (see `notifbot outbox list`), muted (stored, not posted) or "
        "acknowledged. `{name} recent <kind> <n>` narrows the list (up to 50)."
    ).format(name=command_name(inv, ctx))
    items = tuple(_item(row, ctx.links, t) for row in page.rows)
    return Reply(title, (Section(text=text, items=items),), footer=footer)


def _grouped(grouped: str, t: Texts) -> str:
    """How the notification went out with others ("×200 group, firing", "in a digest"), in `t`'s language."""
    if grouped == "in a digest":
        return t._("in a digest")
    found = _GROUPED.fullmatch(grouped)
    if found is None:
        return grouped
    return t._("×{n} group, {state}").format(n=found.group(1), state=group_state(found.group(2), t))
