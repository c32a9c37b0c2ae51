"""`mute`, `unmute` and `mutes`: silence a kind for a while, end it, list what is in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifbot.commands.args import Command
from notifbot.commands.common import command_name, plural, span
from notifbot.commands.model import CommandContext, Invocation
from notifbot.model import Mute
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.store.conn import Conn
from notifbot.store.mutes import active_mutes, add_mute, end_mutes
from notifbot.store.notify import notify
from notifbot.text import format_when


@dataclass(frozen=True)
class Muted(Reply):
    """The answer to `mute`, carrying the mute it created (a Mute button words its own answer from it)."""

    mute: Mute | None = None


def _author(inv: Invocation) -> str:
    name = (inv.user_name or "").strip()
    return f"{inv.user_id} ({name[:80]})" if name and name != inv.user_id else inv.user_id


def _mute_replacing(
    conn: Conn,
    kind: str,
    until: datetime,
    author: str,
    reason: str | None,
    now: datetime,
    matchers: tuple[tuple[str, str], ...] = (),
) -> tuple[Mute, list[Mute]]:
    """Creates the mute (and tells the other replicas); also returns the active mutes of that kind and scope it replaces."""
    replaced = [m for m in active_mutes(conn, now) if (m.kind, m.matchers) == (kind, matchers)]
    created = add_mute(conn, kind, until, author, reason, now, matchers)
    notify(conn, "mutes")  # committed already: announced at once, in its own statement
    return created, replaced


async def mute(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    """Mutes a kind until now + duration; its notifications are still stored and listed."""
    assert cmd.kind is not None and cmd.duration is not None
    now = ctx.clock()
    until = now + cmd.duration
    author = _author(inv)
    created, replaced = await ctx.db.call(
        _mute_replacing, cmd.kind, until, author, cmd.reason, now, cmd.matchers
    )
    await ctx.on_mutes_changed()
    name = command_name(inv, ctx)
    what = "every kind of notification" if cmd.kind == "all" else f"new {cmd.kind} notifications"
    if cmd.matchers:
        what = f"new notifications matching {created.scope}"
    lines = [
        f"Until {format_when(created.until)}, {what} are stored but not posted. Muted notifications stay "
        f"visible in `{name} recent`; end the mute early with `{name} unmute {cmd.kind}`."
    ]
    if replaced:
        lines.append(f"This replaces the earlier mute that ran until {format_when(replaced[-1].until)}.")
    facts = [Fact("Kind", cmd.kind), Fact("Until", format_when(created.until)), Fact("Muted by", author)]
    if cmd.matchers:
        facts.insert(1, Fact("Only", " ".join(f"{k}={v}" for k, v in cmd.matchers)))
    if cmd.reason:
        facts.append(Fact("Reason", cmd.reason))
    title = created.scope if cmd.matchers else ("all notifications" if cmd.kind == "all" else cmd.kind)
    return Muted(
        f"Muted {title} for {span(cmd.duration)}",
        (Section(text="\n".join(lines), facts=tuple(facts)),),
        mute=created,
    )


def _end(conn: Conn, kind: str, author: str, now: datetime) -> tuple[int, list[Mute]]:
    ended = end_mutes(conn, kind, author, now)
    if ended:  # the other replicas post this kind again within a second, not at their next reload
        notify(conn, "mutes")
    return ended, active_mutes(conn, now)


async def unmute(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    """Ends the active mutes of a kind and says how many there were."""
    assert cmd.kind is not None
    now = ctx.clock()
    ended, remaining = await ctx.db.call(_end, cmd.kind, inv.user_id, now)
    await ctx.on_mutes_changed()
    if not ended:
        others = ", ".join(f"{m.kind} (until {format_when(m.until)})" for m in remaining[:10])
        text = f"No active mute for {cmd.kind}. " + (
            f"Muted now: {others}." if others else "Nothing is muted."
        )
        return Reply(f"{cmd.kind} was not muted", (Section(text=text),))
    what = "notifications" if cmd.kind == "all" else f"{cmd.kind} notifications"
    lines = [f"Ended {plural(ended, 'mute')}; new {what} are posted again."]
    blanket = next((m for m in remaining if m.kind == "all"), None)
    if blanket is not None:
        lines[0] = f"Ended {plural(ended, 'mute')} of {cmd.kind}."
        lines.append(f"Everything is still muted (`all`) until {format_when(blanket.until)}.")
    elif cmd.kind == "all" and remaining:
        lines.append(
            "Still muted: "
            + ", ".join(f"{m.kind} (until {format_when(m.until)})" for m in remaining[:10])
            + "."
        )
    return Reply(f"Unmuted {cmd.kind}", (Section(text="\n".join(lines)),))


async def mutes(inv: Invocation, ctx: CommandContext) -> Reply:
    """The mutes in force, soonest expiry first, with who set them, why and how long is left."""
    now = ctx.clock()
    active = await ctx.db.read(active_mutes, now)
    name = command_name(inv, ctx)
    if not active:
        text = (
            f"Every notification is posted. Mute with `{name} mute [kind] [key=value …] <duration> "
            f'[--reason "…"]`, e.g. `{name} mute engagement 2h` or `{name} mute kind=campaign_failure instance=123-ABC-456 4h`.'
        )
        return Reply("No mutes in force", (Section(text=text),))
    items = tuple(
        Item(
            f"{m.scope if m.matchers else m.kind} — until {format_when(m.until)}",
            detail=" · ".join(p for p in (f"{span(m.until - now)} left", f"by {m.author}", m.reason) if p),
        )
        for m in active
    )
    footer = f"Muted notifications are still stored and listed by `{name} recent`. End one with `{name} unmute <kind>`."
    return Reply(f"Mutes in force ({len(active)})", (Section(items=items),), footer=footer)
