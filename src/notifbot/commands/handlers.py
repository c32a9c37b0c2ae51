"""Answers `routes` and `status` from the settings and the store (the command table in `table.py` runs them)."""

from __future__ import annotations

from notifbot.central_time import central_date
from notifbot.commands.common import group_state, when_ts
from notifbot.commands.model import CommandContext
from notifbot.commands.open_groups import OpenGroups, open_groups
from notifbot.commands.queries import PollerState, status_counts
from notifbot.commands.replicas import ReplicaView, replica_view, replicas_section
from notifbot.destinations import Destination, describe
from notifbot.i18n import EN, Texts
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.text import as_text


def _match(match: dict[str, object], t: Texts) -> str:
    if not match:
        return t._("everything else")
    parts = []
    for key, value in match.items():
        shown = t._(" or ").join(as_text(v) for v in value) if isinstance(value, list) else as_text(value)
        parts.append(f"{key} = {shown}")
    return ", ".join(parts)


def _destination(name: str, dest: Destination | None, t: Texts) -> str:
    if dest is None:
        return t._("{name} (not defined)").format(name=name)
    return f"{name} ({describe(dest, t)})"


def routes_reply(ctx: CommandContext, t: Texts = EN) -> Reply:
    """The route table in order: what each route matches, where it sends, and whether matching goes on."""
    s = ctx.settings
    items = tuple(
        Item(
            f"{i}. {_match(dict(route.match), t)} → "
            + ", ".join(_destination(n, s.destinations.get(n), t) for n in route.to),
            detail=t._("continue: later routes are checked too") if route.continue_ else t._("stops here"),
        )
        for i, route in enumerate(s.routes, 1)
    )
    text = t._("First match wins unless a route says `continue`. Configuration: {source}.").format(
        source=s.source
    )
    footer = t._("Mutes apply before routing: a muted kind is stored but sent nowhere (see `mutes`).")
    return Reply(t.pgettext("heading", "Routes"), (Section(text=text, items=items),), footer=footer)


def _poller(p: PollerState, replicas: ReplicaView, t: Texts) -> Item:
    detail = [t._("last success {when}").format(when=when_ts(p.last_success_at, t))]
    if replicas.shown:
        holder = replicas.holder_of(f"{p.poller}:{p.instance}")
        detail.append(t._("on {replica}").format(replica=holder) if holder else t._("on no replica now"))
    if p.calls_today:
        detail.append(t._("{n} API calls today").format(n=t.count(p.calls_today)))
    if p.last_error and (p.last_success_at is None or (p.last_error_at or 0) >= p.last_success_at):
        if p.last_error_at is None:
            detail.append(t._("last error: {error}").format(error=p.last_error))
        else:
            detail.append(
                t._("last error {when}: {error}").format(when=when_ts(p.last_error_at, t), error=p.last_error)
            )
    return Item(f"{p.instance} · {p.poller}", detail=" · ".join(detail))


def _budget(instance: str, budget: int, pollers: list[PollerState], today: str, t: Texts) -> Item:
    """notifbot's own API calls to `instance` today against its daily budget, per poller."""
    mine = [p for p in pollers if p.instance == instance]
    label = t._("{instance} · API budget").format(instance=instance)
    if not mine:
        detail = t._("{n} calls a day; waiting for the first poll").format(n=t.count(budget))
        return Item(label, detail=detail)
    used = {p.poller: p.calls_today for p in mine if p.day == today}
    split = ", ".join(f"{name} {t.count(n)}" for name, n in sorted(used.items()) if n)
    detail = t._("{used} of {budget} calls used today (US Central day)").format(
        used=t.count(sum(used.values())), budget=t.count(budget)
    )
    return Item(label, detail=detail + (f": {split}" if split else ""))


def _groups(groups: OpenGroups, t: Texts) -> str:
    """Open alert groups per state, each problem once ("2 firing, 1 acknowledged (in 3 destinations)"), or "none"."""
    shown = ", ".join(f"{t.count(n)} {group_state(state, t)}" for state, n in sorted(groups.states.items()))
    if not shown:
        return t._("none")
    if groups.destinations > 1:
        d = groups.destinations
        shown += " " + t.ngettext("(in {n} destination)", "(in {n} destinations)", d).format(n=t.count(d))
    return shown


async def status_reply(ctx: CommandContext, t: Texts = EN) -> Reply:
    """Version, uptime, outbox depth, dead rows, stored events, last delivery and last poll per instance."""
    now = ctx.clock()
    counts = await ctx.db.read(status_counts, now.timestamp())
    groups = await ctx.db.read(open_groups)
    replicas = await ctx.db.read(replica_view, ctx.settings.storage.lease_seconds)
    last = ctx.last_delivery_at() or counts.last_delivered_at
    dead = t.count(counts.dead) + (t._(" — inspect with `notifbot outbox list`") if counts.dead else "")
    facts = (
        Fact(t.pgettext("fact", "Version"), ctx.version),
        Fact(
            t.pgettext("fact", "Uptime"),
            t._("{span} (since {when})").format(
                span=t.span(now - ctx.started_at), when=t.when(ctx.started_at)
            ),
        ),
        Fact(t.pgettext("fact", "Notifications stored"), t.count(counts.events)),
        Fact(t.pgettext("fact", "Outbox pending"), t.count(counts.pending)),
        Fact(t.pgettext("fact", "Dead deliveries"), dead),
        Fact(t.pgettext("fact", "Last delivery"), when_ts(last, t, t._("none yet"))),
        Fact(t.pgettext("fact", "Mutes in force"), t.count(counts.active_mutes)),
        Fact(t.pgettext("fact", "Alert groups open"), _groups(groups, t)),
    )
    today = central_date(now).isoformat()
    items: list[Item] = []
    for inst in ctx.settings.marketo.instances:
        items.append(
            _budget(inst.munchkin_id, ctx.settings.marketo.budget_for(inst), counts.pollers, today, t)
        )
    items += [_poller(p, replicas, t) for p in counts.pollers]
    title = t.pgettext("heading", "Marketo polling")
    if items:
        polling = Section(title=title, items=tuple(items))
    else:
        polling = Section(title=title, text=t._("No Marketo instances configured (`marketo.instances`)."))
    sections: tuple[Section, ...] = (Section(facts=facts), polling)
    if replicas.shown:
        sections += (replicas_section(replicas, t),)
    return Reply(t.pgettext("heading", "notifbot status"), sections)
