"""Small helpers shared by the command handlers: Unix times, visibility, the command's name, the admins setting."""

from __future__ import annotations

from datetime import UTC, datetime

from notifbot.commands.model import CommandContext, Invocation
from notifbot.i18n import EN, Texts
from notifbot.replies import Visibility


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


def when_ts(ts: float | None, t: Texts = EN, empty: str | None = None) -> str:
    """A Unix time shown in `t`'s zone with US Central beside (UTC without one), or `empty` ("never")."""
    if ts is None:
        return t._("never") if empty is None else empty
    return t.when(datetime.fromtimestamp(ts, UTC))


def group_state(state: str, t: Texts = EN) -> str:
    """An alert group's state ("firing", "acknowledged", "resolved") in `t`'s language; unknown ones as stored."""
    # TRANSLATORS: an alert group's state in `/marketo status` and `recent`
    words = {
        "firing": t.pgettext("group state", "firing"),
        "acknowledged": t.pgettext("group state", "acknowledged"),
        "resolved": t.pgettext("group state", "resolved"),
    }
    return words.get(state, state)
