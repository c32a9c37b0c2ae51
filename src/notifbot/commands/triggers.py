"""`stale-triggers [days]`: active trigger campaigns no one qualified for in a while, most idle first."""

from __future__ import annotations

from notifbot.commands.common import visibility
from notifbot.commands.model import CommandContext
from notifbot.commands.queries import StaleTriggers, TriggerCampaign, stale_triggers
from notifbot.i18n import EN, N_, Texts
from notifbot.links import safe_url
from notifbot.replies import Item, Reply, Section

TITLE = N_("Stale trigger campaigns")
AT_RISK_DAYS = 150  # Marketo's quarterly cleanup deactivates triggers idle for 6 months (≈180 days)
MAX_ITEMS = 40
AT_RISK = N_("at risk of Marketo's quarterly cleanup")
DEACTIVATED = N_("Deactivated by Marketo's cleanup")
FOOTER = N_(
    "Once a quarter Marketo deactivates trigger campaigns that have been active for over 6 months (≈180 days) "
    "with no one qualifying, announced a week ahead; those idle {days}+ days are flagged. "
    "Idle time counts from the last activity notifbot found; with none, from as far back as it looked (≥), "
    "or from the campaign's creation."
)


def _footer(t: Texts) -> str:
    return t._(FOOTER).format(days=AT_RISK_DAYS)


def _days(n: int, t: Texts) -> str:
    return t.ngettext("{n} day", "{n} days", n).format(n=t.count(n))


def _campaigns(n: int, t: Texts) -> str:
    return t.ngettext("{n} active trigger campaign", "{n} active trigger campaigns", n).format(n=t.count(n))


def _cleanup_text(c: TriggerCampaign, t: Texts) -> str:
    """Marketo's scheduled deactivation; once its date is behind us, only what notifbot knows: it was due."""
    when = t.date(c.cleanup_on) if c.cleanup_on else None
    if c.cleanup_due_passed:
        return t._("Marketo's cleanup was due {date}; no deactivation notice has named it").format(date=when)
    if when:
        return t._("Marketo scheduled its deactivation for {date}").format(date=when)
    return t._("Marketo scheduled its deactivation")


def _deactivated_section(result: StaleTriggers, t: Texts) -> tuple[Section, ...]:
    if not result.deactivated:
        return ()
    several = len({c.instance for c in result.deactivated}) > 1
    items = []
    for c in result.deactivated:
        when = (
            t._("deactivated on {date}").format(date=t.date(c.deactivated_on))
            if c.deactivated_on
            else t.pgettext("status", "deactivated")
        )
        parts = [c.instance if several else None, c.program_name, when]
        items.append(Item(c.name, url=safe_url(c.url), detail=" · ".join(p for p in parts if p)))
    return (Section(title=t._(DEACTIVATED), items=tuple(items)),)


def _item(c: TriggerCampaign, several_instances: bool, t: Texts) -> Item:
    since, days = t.date(c.idle_since), _days(c.idle_days, t)
    if c.seen_activity:
        idle = t._("idle {days} (last activity {date})").format(days=days, date=since)
    elif c.cleanup_scheduled:
        idle = t._("no one qualified for 6 months, per Marketo's cleanup notice")
    elif c.basis == "at_least":
        idle = t._("no activity since at least {date} (≥ {days})").format(days=days, date=since)
    elif c.basis == "created":
        idle = t._("no activity since it was created on {date} ({days})").format(days=days, date=since)
    else:
        idle = t._("no activity observed since {date} ({days})").format(days=days, date=since)
    risk = t._(AT_RISK) if c.idle_days >= AT_RISK_DAYS else None
    if c.cleanup_scheduled:
        risk = _cleanup_text(c, t)
    parts = [c.program_name, idle, risk]
    if several_instances:
        parts.insert(0, c.instance)
    return Item(c.name, url=safe_url(c.url), detail=" · ".join(p for p in parts if p))


def _no_data(ctx: CommandContext, t: Texts) -> str:
    if ctx.settings.marketo.instances:
        return t._("No trigger-campaign data yet — waiting for the first poll of Marketo's smart campaigns.")
    return t._(
        "No trigger-campaign data yet — configure `marketo.instances` in the config so notifbot can poll "
        "Marketo's trigger campaigns and their activity."
    )


async def stale_reply(ctx: CommandContext, days: int, share: bool, t: Texts = EN) -> Reply:
    """Active trigger campaigns idle ≥ `days`, with an honest "observed since" when no activity was ever seen."""
    result = await ctx.db.read(stale_triggers, days, ctx.clock(), MAX_ITEMS, AT_RISK_DAYS)
    title = t._(TITLE)
    if result.tracked == 0:
        return Reply(title, (Section(text=_no_data(ctx, t)),), visibility=visibility(share))
    gone = _deactivated_section(result, t)
    if not result.idle:
        text = (
            t._("None of the {campaigns} has been idle for {days}+ days.").format(
                campaigns=_campaigns(result.active, t), days=days
            )
            if result.active
            else t._("No active trigger campaigns right now.")
        )
        return Reply(title, (Section(text=text), *gone), footer=_footer(t), visibility=visibility(share))
    at_risk = result.at_risk
    several = len({c.instance for c in result.idle}) > 1
    text = t._("{n} of {campaigns} had no one qualify for {days}+ days (most idle first).").format(
        n=t.count(result.idle_count), campaigns=_campaigns(result.active, t), days=days
    )
    if at_risk:
        text += " " + t.ngettext(
            "{n} is at risk of Marketo's quarterly cleanup.",
            "{n} are at risk of Marketo's quarterly cleanup.",
            at_risk,
        ).format(n=t.count(at_risk))
    if due := result.due_passed:
        text += " " + t.ngettext(
            "{n} was due for deactivation already.", "{n} were due for deactivation already.", due
        ).format(n=t.count(due))
    items = tuple(_item(c, several, t) for c in result.idle)
    section = Section(text=text, items=items, more=max(0, result.idle_count - len(items)))
    return Reply(title, (section, *gone), footer=_footer(t), visibility=visibility(share))
