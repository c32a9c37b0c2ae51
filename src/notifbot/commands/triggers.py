"""`stale-triggers [days]`: active trigger campaigns no one qualified for in a while, most idle first."""

from __future__ import annotations

from notifbot.commands.common import plural, visibility
from notifbot.commands.model import CommandContext
from notifbot.commands.queries import StaleTriggers, TriggerCampaign, stale_triggers
from notifbot.links import safe_url
from notifbot.replies import Item, Reply, Section
from notifbot.text import format_date

TITLE = "Stale trigger campaigns"
AT_RISK_DAYS = 150  # Marketo's quarterly cleanup deactivates triggers idle for 6 months (≈180 days)
MAX_ITEMS = 40
AT_RISK = "at risk of Marketo's quarterly cleanup"
DEACTIVATED = "Deactivated by Marketo's cleanup"
FOOTER = (
    "Once a quarter Marketo deactivates trigger campaigns that have been active for over 6 months (≈180 days) "
    f"with no one qualifying, announced a week ahead; those idle {AT_RISK_DAYS}+ days are flagged. "
    "Idle time counts from the last activity notifbot found; with none, from as far back as it looked (≥), "
    "or from the campaign's creation."
)


def _cleanup_text(c: TriggerCampaign) -> str:
    """Marketo's scheduled deactivation; once its date is behind us, only what notifbot knows: it was due."""
    when = format_date(c.cleanup_on) if c.cleanup_on else None
    if c.cleanup_due_passed:
        return f"Marketo's cleanup was due {when}; no deactivation notice has named it"
    return f"Marketo scheduled its deactivation for {when}" if when else "Marketo scheduled its deactivation"


def _deactivated_section(result: StaleTriggers) -> tuple[Section, ...]:
    if not result.deactivated:
        return ()
    several = len({c.instance for c in result.deactivated}) > 1
    items = []
    for c in result.deactivated:
        when = f"deactivated on {format_date(c.deactivated_on)}" if c.deactivated_on else "deactivated"
        parts = [c.instance if several else None, c.program_name, when]
        items.append(Item(c.name, url=safe_url(c.url), detail=" · ".join(p for p in parts if p)))
    return (Section(title=DEACTIVATED, items=tuple(items)),)


def _item(c: TriggerCampaign, several_instances: bool) -> Item:
    since, days = format_date(c.idle_since), plural(c.idle_days, "day")
    if c.seen_activity:
        idle = f"idle {days} (last activity {since})"
    elif c.cleanup_scheduled:
        idle = "no one qualified for 6 months, per Marketo's cleanup notice"
    elif c.basis == "at_least":
        idle = f"no activity since at least {since} (≥ {days})"
    elif c.basis == "created":
        idle = f"no activity since it was created on {since} ({days})"
    else:
        idle = f"no activity observed since {since} ({days})"
    risk = AT_RISK if c.idle_days >= AT_RISK_DAYS else None
    if c.cleanup_scheduled:
        risk = _cleanup_text(c)
    parts = [c.program_name, idle, risk]
    if several_instances:
        parts.insert(0, c.instance)
    return Item(c.name, url=safe_url(c.url), detail=" · ".join(p for p in parts if p))


def _no_data(ctx: CommandContext) -> str:
    if ctx.settings.marketo.instances:
        return "No trigger-campaign data yet — waiting for the first poll of Marketo's smart campaigns."
    return (
        "No trigger-campaign data yet — configure `marketo.instances` in the config so notifbot can poll "
        "Marketo's trigger campaigns and their activity."
    )


async def stale_reply(ctx: CommandContext, days: int, share: bool) -> Reply:
    """Active trigger campaigns idle ≥ `days`, with an honest "observed since" when no activity was ever seen."""
    result = await ctx.db.read(stale_triggers, days, ctx.clock(), MAX_ITEMS, AT_RISK_DAYS)
    if result.tracked == 0:
        return Reply(TITLE, (Section(text=_no_data(ctx)),), visibility=visibility(share))
    gone = _deactivated_section(result)
    if not result.idle:
        text = (
            f"None of the {plural(result.active, 'active trigger campaign')} has been idle for {days}+ days."
            if result.active
            else "No active trigger campaigns right now."
        )
        return Reply(TITLE, (Section(text=text), *gone), footer=FOOTER, visibility=visibility(share))
    at_risk = result.at_risk
    several = len({c.instance for c in result.idle}) > 1
    text = (
        f"{result.idle_count:,} of {plural(result.active, 'active trigger campaign')} had no one qualify for "
        f"{days}+ days (most idle first)."
    )
    if at_risk:
        text += f" {at_risk:,} {'is' if at_risk == 1 else 'are'} {AT_RISK}."
    if due := result.due_passed:
        text += f" {due:,} {'was' if due == 1 else 'were'} due for deactivation already."
    items = tuple(_item(c, several) for c in result.idle)
    section = Section(text=text, items=items, more=max(0, result.idle_count - len(items)))
    return Reply(TITLE, (section, *gone), footer=FOOTER, visibility=visibility(share))
