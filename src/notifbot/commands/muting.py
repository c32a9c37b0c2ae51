"""`mute`, `unmute` and `mutes`: silence a kind for a while, end it, list what is in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifbot.commands.args import Command
from notifbot.commands.common import command_name
from notifbot.commands.model import CommandContext, Invocation
from notifbot.model import Mute
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.scopes import scope_text
from notifbot.store.conn import Conn
from notifbot.store.mutes import active_mutes, add_mute, end_mutes, end_scoped_mutes
from notifbot.store.notify import notify


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
    t = inv.texts
    name = command_name(inv, ctx)
    shown_until = t.when(created.until)
    values = {"until": shown_until, "name": name, "kind": cmd.kind, "scope": created.scope}
    if cmd.matchers:
        first = t._("Until {until}, new notifications matching {scope} are stored but not posted.")
    elif cmd.kind == "all":
        first = t._("Until {until}, every kind of notification are stored but not posted.")
    else:
        first = t._("Until {until}, new {kind} notifications are stored but not posted.")
    rest = t._(
        "Muted notifications stay visible in `{name} recent`; end the mute early with `{name} unmute {scope}`."
    )
    lines = [f"{first.format(**values)} {rest.format(**values)}"]
    if replaced:
        lines.append(
            t._("This replaces the earlier mute that ran until {until}.").format(
                until=t.when(replaced[-1].until)
            )
        )
    facts = [
        Fact(t.pgettext("fact", "Kind"), cmd.kind),
        Fact(t.pgettext("fact", "Until"), shown_until),
        Fact(t.pgettext("fact", "Muted by"), author),
    ]
    if cmd.matchers:
        facts.insert(1, Fact(t.pgettext("fact", "Only"), scope_text("all", cmd.matchers)))
    if cmd.reason:
        facts.append(Fact(t.pgettext("fact", "Reason"), cmd.reason))
    title = created.scope if cmd.matchers else (t._("all notifications") if cmd.kind == "all" else cmd.kind)
    return Muted(
        t._("Muted {what} for {span}").format(what=title, span=t.span(cmd.duration)),
        (Section(text="\n".join(lines), facts=tuple(facts)),),
        mute=created,
    )


def _end(
    conn: Conn, kind: str, matchers: tuple[tuple[str, str], ...], author: str, now: datetime
) -> tuple[int, list[Mute]]:
    """Ends every mute of `kind`, or with matchers the mutes of exactly that scope; also returns those left."""
    ended = (
        end_scoped_mutes(conn, kind, matchers, author, now)
        if matchers
        else end_mutes(conn, kind, author, now)
    )
    if ended:  # the other replicas post this kind again within a second, not at their next reload
        notify(conn, "mutes")
    return ended, active_mutes(conn, now)


async def unmute(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    """Ends the active mutes of a kind (or of exactly one key=value scope) and says how many there were."""
    assert cmd.kind is not None
    now = ctx.clock()
    ended, remaining = await ctx.db.call(_end, cmd.kind, cmd.matchers, inv.user_id, now)
    await ctx.on_mutes_changed()
    t = inv.texts
    what = scope_text(cmd.kind, cmd.matchers)
    others = ", ".join(
        t._("{kind} (until {until})").format(kind=m.scope, until=t.when(m.until)) for m in remaining[:10]
    )
    if not ended:
        text = t._("No active mute for {kind}.").format(kind=what) + " "
        text += t._("Muted now: {mutes}.").format(mutes=others) if others else t._("Nothing is muted.")
        return Reply(t._("{kind} was not muted").format(kind=what), (Section(text=text),))
    mutes_ended = t.ngettext("{n} mute", "{n} mutes", ended).format(n=t.count(ended))
    if cmd.matchers:
        lines = [
            t._("Ended {mutes}; new notifications matching {scope} are posted again.").format(
                mutes=mutes_ended, scope=what
            )
        ]
    elif cmd.kind == "all":
        lines = [t._("Ended {mutes}; new notifications are posted again.").format(mutes=mutes_ended)]
    else:
        lines = [
            t._("Ended {mutes}; new {kind} notifications are posted again.").format(
                mutes=mutes_ended, kind=cmd.kind
            )
        ]
    blanket = next((m for m in remaining if m.kind == "all" and not m.matchers), None)
    wider = next((m for m in remaining if cmd.matchers and m.kind == cmd.kind and not m.matchers), None)
    if blanket is not None:
        lines[0] = t._("Ended {mutes} of {kind}.").format(mutes=mutes_ended, kind=what)
        lines.append(
            t._("Everything is still muted (`all`) until {until}.").format(until=t.when(blanket.until))
        )
    elif wider is not None:
        lines[0] = t._("Ended {mutes} of {kind}.").format(mutes=mutes_ended, kind=what)
        lines.append(
            t._("Every {kind} notification is still muted until {until}.").format(
                kind=wider.kind, until=t.when(wider.until)
            )
        )
    elif cmd.kind == "all" and remaining:
        lines.append(t._("Still muted: {mutes}.").format(mutes=others))
    return Reply(t._("Unmuted {kind}").format(kind=what), (Section(text="\n".join(lines)),))


async def mutes(inv: Invocation, ctx: CommandContext) -> Reply:
    """The mutes in force, soonest expiry first, with who set them, why and how long is left."""
    now = ctx.clock()
    active = await ctx.db.read(active_mutes, now)
    t = inv.texts
    name = command_name(inv, ctx)
    if not active:
        text = t._(
            'Every notification is posted. Mute with `{name} mute [kind] [key=value …] <duration> [--reason "…"]`, '
            "e.g. `{name} mute engagement 2h` or `{name} mute kind=campaign_failure instance=123-ABC-456 4h`."
        ).format(name=name)
        return Reply(t._("No mutes in force"), (Section(text=text),))
    items = tuple(
        Item(
            t._("{scope} — until {until}").format(scope=m.scope, until=t.when(m.until)),
            detail=" · ".join(
                p
                for p in (
                    t._("{span} left").format(span=t.span(m.until - now)),
                    t._("by {author}").format(author=m.author),
                    m.reason,
                )
                if p
            ),
        )
        for m in active
    )
    footer = t._(
        "Muted notifications are still stored and listed by `{name} recent`. End one with `{name} unmute` and its "
        "scope as listed, e.g. `{name} unmute {scope}`; `{name} unmute <kind>` ends every mute of a kind."
    ).format(name=name, scope=active[0].scope)
    return Reply(t._("Mutes in force ({n})").format(n=len(active)), (Section(items=items),), footer=footer)
