"""`/marketo stale-triggers`: active trigger campaigns nobody qualified for in a while, most idle first."""

from __future__ import annotations

from datetime import UTC

from notifbot.commands.model import CommandContext, Item, Reply, Section, Visibility
from notifbot.render.text import format_date, parse_time
from notifbot.store.queries import trigger_campaigns

AT_RISK_DAYS = 150  # Marketo deactivates trigger campaigns idle for 6 months, once a quarter
MAX_ITEMS = 40


async def stale_reply(ctx: CommandContext, days: int, share: bool) -> Reply:
    """Trigger campaigns idle ≥ `days`, with an honest 'observed since' when no activity was ever seen."""
    visibility: Visibility = "in_channel" if share else "ephemeral"
    campaigns = await ctx.db.read(trigger_campaigns)
    if not campaigns:
        text = (
            "No trigger-campaign data yet — waiting for the first poll."
            if ctx.settings.marketo.instances
            else "No trigger-campaign data yet — configure `marketo.instances` in the config so notifbot can "
            "watch trigger campaigns."
        )
        return Reply("Stale trigger campaigns", (Section(text=text),), visibility=visibility)
    now = ctx.clock()
    idle: list[tuple[float, Item]] = []
    for c in campaigns:
        seen = parse_time(c.last_activity_at) if c.last_activity_at else None
        since = seen or parse_time(c.observed_since) or now
        age = (now - since.astimezone(UTC)).total_seconds() / 86400
        if age < days:
            continue
        what = (
            f"idle {age:.0f} days (last activity {format_date(seen)})"
            if seen
            else f"no activity observed since {format_date(since)} ({age:.0f} days)"
        )
        risk = " · at risk of Marketo's quarterly cleanup" if age >= AT_RISK_DAYS else ""
        program = f"{c.program_name} · " if c.program_name else ""
        url = c.url if c.url and c.url.startswith("https://") else None
        idle.append((age, Item(c.name, url=url, detail=f"{program}{what}{risk}")))
    idle.sort(key=lambda pair: -pair[0])
    if not idle:
        text = f"All {len(campaigns):,} active trigger campaigns saw activity in the last {days} days."
        return Reply("Stale trigger campaigns", (Section(text=text),), visibility=visibility)
    items = tuple(item for _, item in idle[:MAX_ITEMS])
    text = f"{len(idle):,} of {len(campaigns):,} active trigger campaigns idle for {days}+ days."
    return Reply(
        "Stale trigger campaigns",
        (Section(text=text, items=items, more=max(0, len(idle) - MAX_ITEMS)),),
        footer=f"Checked {format_date(now)}. Marketo deactivates triggers idle for 6 months.",
        visibility=visibility,
    )
