"""Answers `routes` and `status` from the settings and the store (the command table in `table.py` runs them)."""

from __future__ import annotations

from notifbot.central_time import central_date
from notifbot.commands.common import span, when_ts
from notifbot.commands.model import CommandContext
from notifbot.commands.queries import PollerState, status_counts
from notifbot.commands.replicas import ReplicaView, replica_view, replicas_section
from notifbot.destinations import Destination, describe
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.text import as_text, format_when


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


def _poller(p: PollerState, replicas: ReplicaView) -> Item:
    detail = [f"last success {when_ts(p.last_success_at)}"]
    if replicas.shown:
        detail.append(f"on {replicas.holder_of(f'{p.poller}:{p.instance}') or 'no replica now'}")
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
    replicas = await ctx.db.read(replica_view, ctx.settings.storage.lease_seconds)
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
        Fact(
            "Alert groups open",
            ", ".join(f"{n:,} {state}" for state, n in sorted(counts.groups.items())) or "none",
        ),
    )
    today = central_date(now).isoformat()
    items: list[Item] = []
    for inst in ctx.settings.marketo.instances:
        items.append(_budget(inst.munchkin_id, ctx.settings.marketo.budget_for(inst), counts.pollers, today))
    items += [_poller(p, replicas) for p in counts.pollers]
    if items:
        polling = Section(title="Marketo polling", items=tuple(items))
    else:
        polling = Section(
            title="Marketo polling", text="No Marketo instances configured (`marketo.instances`)."
        )
    sections: tuple[Section, ...] = (Section(facts=facts), polling)
    if replicas.shown:
        sections += (replicas_section(replicas),)
    return Reply("notifbot status", sections)
