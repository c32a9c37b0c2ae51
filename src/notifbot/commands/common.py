"""Small wording helpers shared by the command handlers: spans, clock times, visibility, the command's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.central_time import CENTRAL
from notifbot.commands.model import CommandContext, Invocation
from notifbot.replies import Visibility
from notifbot.text import clock_12h, format_when


def visibility(share: bool) -> Visibility:
    """`in_channel` when the asker wants everyone to see the answer, else only the asker."""
    return "in_channel" if share else "ephemeral"


def command_name(inv: Invocation, ctx: CommandContext) -> str:
    """How users type the command in this transport (`/marketo` in Slack, `@notifbot` in Teams)."""
    return ctx.settings.slack.command if inv.transport == "slack" else f"@{ctx.settings.teams.bot_name}"


def admins_setting(inv: Invocation, ctx: CommandContext) -> tuple[str, list[str]]:
    """The setting that names the admins on this transport (`slack.admins`, `teams.admins`) and its value."""
    if inv.transport == "slack":
        return "slack.admins", ctx.settings.slack.admins
    return "teams.admins", ctx.settings.teams.admins


def span(delta: timedelta) -> str:
    """A duration in words: "3 d 4 h", "7 h 20 min", "8 h", "45 min", "less than a minute"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes <= 0:
        return "less than a minute"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def ago(then: datetime, now: datetime) -> str:
    """ "5 min ago", or "just now"."""
    delta = now - then
    return "just now" if delta < timedelta(minutes=1) else f"{span(delta)} ago"


def clock_ct(dt: datetime, now: datetime | None = None) -> str:
    """A US Central clock time ("4:40 PM CT"), with the date when it is not the same Central day as `now`."""
    local = dt.astimezone(CENTRAL)
    text = f"{clock_12h(local)} CT"
    if now is not None and now.astimezone(CENTRAL).date() != local.date():
        text = f"{local:%b} {local.day}, {text}"
    return text


def when_ts(ts: float | None, empty: str = "never") -> str:
    """A Unix time shown in UTC and US Central, or `empty`."""
    return format_when(datetime.fromtimestamp(ts, UTC)) if ts is not None else empty


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 mute", "3 mutes", with thousands separators."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
