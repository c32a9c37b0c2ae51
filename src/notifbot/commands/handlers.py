"""Answers each `/marketo` command from the store; never raises to the transport."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from notifbot.commands.model import CommandContext, Fact, Invocation, Item, Reply, Section
from notifbot.commands.parse import MUTABLE_KINDS, Command, parse
from notifbot.commands.quota import quota_reply
from notifbot.commands.triggers import stale_reply
from notifbot.render.text import format_when, parse_time
from notifbot.store import mutes as mute_store
from notifbot.store.queries import recent, status_counts

log = logging.getLogger("notifbot.commands")

USAGE = (
    ("help", "this card"),
    ("quota [--share]", "API calls used today, time to the reset, burn-rate forecast, top API users"),
    ("stale-triggers [days]", "active trigger campaigns idle for ≥ days (default 90), most idle first"),
    ("recent [kind] [n]", "the latest notifications with their status"),
    ("mute <kind> <duration> [reason]", "silence a kind, e.g. `mute crm_sync 2h`; still stored and listed"),
    ("unmute <kind>", "end a mute"),
    ("mutes", "mutes in force"),
    ("routes", "where each kind of notification goes"),
    ("status", "uptime, outbox, dead deliveries, last poll"),
)


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{mins} min" if mins or not (days or hours) else "",
    ]
    return " ".join(p for p in parts if p)


def help_reply(command: str, error: str | None = None) -> Reply:
    """The usage card (with what went wrong, if something did)."""
    items = tuple(Item(f"{command} {usage}", detail=what) for usage, what in USAGE)
    sections = (Section(text=error),) if error else ()
    return Reply(f"{command} — Marketo notifications", (*sections, Section(items=items)), ok=error is None)


def recent_reply(ctx: CommandContext, rows: list[object], kind: str | None) -> Reply:
    """The latest notifications as a list."""
    from notifbot.store.queries import RecentRow

    items: list[Item] = []
    for row in rows:
        assert isinstance(row, RecentRow)
        f = row.fields
        main = next(
            (
                str(f[k])
                for k in ("campaign_name", "stream_name", "audience_name", "problem", "action")
                if f.get(k)
            ),
            row.summary or "",
        )
        url = next((str(f[k]) for k in ("url", "errors_url") if isinstance(f.get(k), str)), None)
        status = row.status + (f" by {row.acked_by}" if row.status == "acknowledged" and row.acked_by else "")
        items.append(
            Item(
                f"{row.kind}: {main}".rstrip(": "),
                url=url if url and url.startswith("https://") else None,
                detail=f"{status} · {format_when(parse_time(row.received_at))}",
            )
        )
    if not items:
        what = f"no {kind} notifications" if kind else "no notifications"
        return Reply("Recent notifications", (Section(text=f"{what.capitalize()} stored yet."),))
    title = f"Recent {kind} notifications" if kind else "Recent notifications"
    return Reply(title, (Section(items=tuple(items)),))


def _denied(action: str) -> Reply:
    text = f"Only notifbot admins (slack.admins) can {action}; ask an admin. Read-only commands are open to everyone."
    return Reply("Not allowed", (Section(text=text),), ok=False)


async def _mute(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    if not await ctx.is_admin(inv.user_id):
        return _denied("mute")
    assert cmd.kind is not None and cmd.duration is not None
    now = ctx.clock()
    until = now + cmd.duration
    author = f"{inv.user_name} ({inv.user_id})" if inv.user_name else inv.user_id
    await ctx.db.call(mute_store.add_mute, cmd.kind, until, author, cmd.reason, now)
    await ctx.on_mutes_changed()
    text = (
        f"{cmd.kind} is muted for {_duration(cmd.duration)}, until {format_when(until)}. "
        "Muted notifications are still stored and shown by `recent`."
    )
    return Reply(
        f"Muted {cmd.kind}", (Section(text=text, facts=(Fact("Reason", cmd.reason),) if cmd.reason else ()),)
    )


async def _unmute(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    if not await ctx.is_admin(inv.user_id):
        return _denied("unmute")
    assert cmd.kind is not None
    ended = await ctx.db.call(mute_store.end_mutes, cmd.kind, inv.user_id, ctx.clock())
    await ctx.on_mutes_changed()
    if not ended:
        return Reply(f"{cmd.kind} was not muted", (Section(text="No active mute for this kind."),))
    return Reply(f"Unmuted {cmd.kind}", (Section(text=f"{cmd.kind} notifications are posted again."),))


async def _mutes(ctx: CommandContext) -> Reply:
    now = ctx.clock()
    active = await ctx.db.read(mute_store.active_mutes, now)
    if not active:
        return Reply(
            "No mutes in force",
            (Section(text="Every notification is posted. Mute with `mute <kind> <duration>`."),),
        )
    items = tuple(
        Item(
            f"{m.kind} until {format_when(m.until)}",
            detail=f"{_duration(m.until - now)} left · by {m.author}"
            + (f" · {m.reason}" if m.reason else ""),
        )
        for m in active
    )
    return Reply("Mutes in force", (Section(items=items),))


def _routes(ctx: CommandContext) -> Reply:
    s = ctx.settings
    items: list[Item] = []
    for i, route in enumerate(s.routes, 1):
        match = ", ".join(f"{k}={v}" for k, v in route.match.items()) or "everything else"
        dests = []
        for name in route.to:
            d = s.destinations[name]
            where = getattr(d, "channel", None) or d.type
            dests.append(f"{name} ({d.type} {where})" if where != d.type else f"{name} ({d.type})")
        more = " · then keeps matching" if route.continue_ else ""
        items.append(Item(f"{i}. {match} → {', '.join(dests)}", detail=more or None))
    return Reply(
        "Routes", (Section(text="First match wins unless a route says continue.", items=tuple(items)),)
    )


async def _status(ctx: CommandContext) -> Reply:
    counts = await ctx.db.read(status_counts)
    now = ctx.clock()
    last = ctx.last_delivery_at()
    facts = [
        Fact("Version", ctx.version),
        Fact("Uptime", _duration(now - ctx.started_at)),
        Fact("Notifications stored", f"{counts.events:,}"),
        Fact("Outbox pending", f"{counts.pending:,}"),
        Fact(
            "Dead deliveries", f"{counts.dead:,}" + (" — see `notifbot outbox list`" if counts.dead else "")
        ),
        Fact("Last delivery", format_when(datetime.fromtimestamp(last, UTC)) if last else "none since start"),
    ]
    if counts.pollers:
        polls = tuple(
            Item(
                f"{p['instance']} {p['poller']}",
                detail=(
                    f"last success {format_when(datetime.fromtimestamp(p['last_success_at'], UTC))}"
                    if p.get("last_success_at")
                    else "no successful poll yet"
                )
                + (f" · last error: {p['last_error']}" if p.get("last_error") else ""),
            )
            for p in counts.pollers
        )
        poll_section = Section(title="Marketo polling", items=polls)
    elif ctx.settings.marketo.instances:
        poll_section = Section(title="Marketo polling", text="waiting for the first poll")
    else:
        poll_section = Section(
            title="Marketo polling", text="no Marketo instances configured (marketo.instances)"
        )
    return Reply("notifbot status", (Section(facts=tuple(facts)), poll_section))


async def _dispatch(inv: Invocation, ctx: CommandContext) -> Reply:
    command = ctx.settings.slack.command
    cmd = parse(inv.text)
    if cmd.name == "help":
        return help_reply(command, cmd.error and f"{cmd.error}. Here is what I understand:")
    if cmd.name == "quota":
        return await quota_reply(ctx, cmd.share)
    if cmd.name == "stale-triggers":
        return await stale_reply(ctx, cmd.number or 90, cmd.share)
    if cmd.name == "recent":
        if cmd.kind and cmd.kind not in MUTABLE_KINDS and not cmd.kind.replace("_", "").isalnum():
            return help_reply(command, f"unknown kind '{cmd.kind}'")
        rows = await ctx.db.read(recent, cmd.kind, cmd.number or 10)
        return recent_reply(ctx, list(rows), cmd.kind)
    if cmd.name == "mute":
        return await _mute(inv, cmd, ctx)
    if cmd.name == "unmute":
        return await _unmute(inv, cmd, ctx)
    if cmd.name == "mutes":
        return await _mutes(ctx)
    if cmd.name == "routes":
        return _routes(ctx)
    return await _status(ctx)


async def handle(inv: Invocation, ctx: CommandContext) -> Reply:
    """The reply to one command; an unexpected failure is logged and answered politely."""
    try:
        return await _dispatch(inv, ctx)
    except Exception:
        log.exception("command failed", extra={"text": inv.text[:200], "user": inv.user_id})
        return Reply(
            "Something went wrong", (Section(text="The error was logged; please try again."),), ok=False
        )
