"""Answers each command from the store (one function per command); never raises to the transport."""

from __future__ import annotations

import logging
from dataclasses import replace

from notifbot.central_time import central_date
from notifbot.commands.common import command_name, span, visibility, when_ts
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.muting import mute, mutes, unmute
from notifbot.commands.parse import DEFAULT_RECENT, DEFAULT_STALE_DAYS, MUTABLE_KINDS, Command, parse
from notifbot.commands.queries import PollerState, status_counts
from notifbot.commands.quota import quota_reply
from notifbot.commands.recent import recent_reply
from notifbot.commands.triggers import stale_reply
from notifbot.destinations import Destination, describe
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.text import as_text, format_when

log = logging.getLogger("notifbot.commands")

USAGE = (
    ("help", "this card"),
    ("quota [--share]", "API calls used today, time to the reset, burn-rate forecast, top API users"),
    ("stale-triggers [days] [--share]", "active trigger campaigns idle for days or more (default 90)"),
    ("recent [kind] [n]", "the latest notifications with their status and links (default 10, up to 50)"),
    ("mute <kind> <duration> [reason]", "admins: stop posting a kind for a while (still stored), e.g. 2h"),
    ("unmute <kind>", "admins: end a mute"),
    ("mutes", "the mutes in force"),
    ("routes", "where each notification goes, in order"),
    ("status", "version, uptime, outbox, dead deliveries, last delivery, last Marketo poll"),
)


def help_reply(inv: Invocation, ctx: CommandContext, error: str | None = None) -> Reply:
    """The usage card, led by what went wrong when the input was not understood."""
    name = command_name(inv, ctx)
    items = tuple(Item(f"{name} {usage}", detail=what) for usage, what in USAGE)
    sections = [Section(text=f"Sorry, {error}.")] if error else []
    sections.append(Section(items=items))
    sections.append(
        Section(
            text=f"Kinds: {', '.join(MUTABLE_KINDS)}.\nDurations: 30m, 2h, 1d, 1w or 1h30m; at most 30 days."
        )
    )
    footer = (
        "Read-only commands are open to everyone; mute and unmute need a notifbot admin (`slack.admins`)."
    )
    return Reply(f"{name} — Marketo notifications", tuple(sections), footer=footer, ok=error is None)


def _match(match: dict[str, object]) -> str:
    if not match:
        return "everything else"
    parts = []
    for key, value in match.items():
        shown = " or ".join(as_text(v) for v in value) if isinstance(value, list) else as_text(value)
        parts.append(f"{key} = {shown}")
    return ", ".join(parts)


def _destination(name: str, dest: Destination | None) -> str:
    if dest is None:
        return f"{name} (not defined)"
    return f"{name} ({describe(dest)})"


def routes_reply(ctx: CommandContext) -> Reply:
    """The route table in order: what each route matches, where it sends, and whether matching goes on."""
    s = ctx.settings
    items = tuple(
        Item(
            f"{i}. {_match(dict(route.match))} → {', '.join(_destination(n, s.destinations.get(n)) for n in route.to)}",
            detail="continue: later routes are checked too" if route.continue_ else "stops here",
        )
        for i, route in enumerate(s.routes, 1)
    )
    text = f"First match wins unless a route says `continue`. Configuration: {s.source}."
    footer = "Mutes apply before routing: a muted kind is stored but sent nowhere (see `mutes`)."
    return Reply("Routes", (Section(text=text, items=items),), footer=footer)


def _poller(p: PollerState) -> Item:
    detail = [f"last success {when_ts(p.last_success_at)}"]
    if p.calls_today:
        detail.append(f"{p.calls_today:,} API calls today")
    if p.last_error and (p.last_success_at is None or (p.last_error_at or 0) >= p.last_success_at):
        detail.append(f"last error {when_ts(p.last_error_at, '')}: {p.last_error}".replace(" :", ":"))
    return Item(f"{p.instance} · {p.poller}", detail=" · ".join(detail))


def _budget(instance: str, budget: int, pollers: list[PollerState], today: str) -> Item:
    """notifbot's own API calls to `instance` today against its daily budget, per poller."""
    mine = [p for p in pollers if p.instance == instance]
    if not mine:
        return Item(f"{instance} · API budget", detail=f"{budget:,} calls a day; waiting for the first poll")
    used = {p.poller: p.calls_today for p in mine if p.day == today}
    split = ", ".join(f"{name} {n:,}" for name, n in sorted(used.items()) if n)
    detail = f"{sum(used.values()):,} of {budget:,} calls used today (US Central day)"
    return Item(f"{instance} · API budget", detail=detail + (f": {split}" if split else ""))


async def status_reply(ctx: CommandContext) -> Reply:
    """Version, uptime, outbox depth, dead rows, stored events, last delivery and last poll per instance."""
    now = ctx.clock()
    counts = await ctx.db.read(status_counts, now.timestamp())
    last = ctx.last_delivery_at() or counts.last_delivered_at
    dead = f"{counts.dead:,}" + (" — inspect with `notifbot outbox list`" if counts.dead else "")
    facts = (
        Fact("Version", ctx.version),
        Fact("Uptime", f"{span(now - ctx.started_at)} (since {format_when(ctx.started_at)})"),
        Fact("Notifications stored", f"{counts.events:,}"),
        Fact("Outbox pending", f"{counts.pending:,}"),
        Fact("Dead deliveries", dead),
        Fact("Last delivery", when_ts(last, "none yet")),
        Fact("Mutes in force", f"{counts.active_mutes:,}"),
    )
    today = central_date(now).isoformat()
    items: list[Item] = []
    for inst in ctx.settings.marketo.instances:
        items.append(_budget(inst.munchkin_id, ctx.settings.marketo.budget_for(inst), counts.pollers, today))
    items += [_poller(p) for p in counts.pollers]
    if items:
        polling = Section(title="Marketo polling", items=tuple(items))
    else:
        polling = Section(
            title="Marketo polling", text="No Marketo instances configured (`marketo.instances`)."
        )
    return Reply("notifbot status", (Section(facts=facts), polling))


async def _dispatch(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    if cmd.name == "quota":
        return await quota_reply(ctx, cmd.share)
    if cmd.name == "stale-triggers":
        return await stale_reply(ctx, cmd.number or DEFAULT_STALE_DAYS, cmd.share)
    if cmd.name == "recent":
        reply = await recent_reply(inv, ctx, cmd.kind, cmd.number or DEFAULT_RECENT)
    elif cmd.name == "mute":
        return await mute(inv, cmd, ctx)
    elif cmd.name == "unmute":
        return await unmute(inv, cmd, ctx)
    elif cmd.name == "mutes":
        reply = await mutes(inv, ctx)
    elif cmd.name == "routes":
        reply = routes_reply(ctx)
    elif cmd.name == "status":
        reply = await status_reply(ctx)
    else:
        return help_reply(inv, ctx, cmd.error)
    return replace(reply, visibility=visibility(cmd.share))


async def handle(inv: Invocation, ctx: CommandContext) -> Reply:
    """The reply to one command; an unexpected failure is logged and answered without details."""
    try:
        return await _dispatch(inv, parse(inv.text), ctx)
    except Exception:
        log.exception("command failed", extra={"command_text": inv.text[:200], "user": inv.user_id})
        return Reply(
            "Something went wrong",
            (Section(text="Something went wrong; the error was logged. Please try again."),),
            ok=False,
        )
