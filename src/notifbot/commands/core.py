"""Runs commands from the table: the one admin filter, then the command's handler; typed text never raises.

Every way in goes through `invoke`: typed commands (`handle`), the Slack Acknowledge and Mute buttons and the
Teams `ack` reply, so all of them meet the same admin check and the same store calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from notifbot.commands.args import Command
from notifbot.commands.common import admins_setting, visibility
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.parse import parse
from notifbot.commands.table import BY_NAME, CommandSpec
from notifbot.destinations import target_of
from notifbot.i18n import Texts, available, texts_for, zone_for
from notifbot.replies import Reply, Section

log = logging.getLogger("notifbot.commands")


@dataclass(frozen=True)
class Refusal(Reply):
    """The admin filter's answer: this user may not run this command here."""


def refusal(spec: CommandSpec, inv: Invocation, ctx: CommandContext) -> Refusal:
    """Why a non-admin cannot run `spec`, naming the setting that governs the transport they asked on."""
    t = inv.texts
    setting, admins = admins_setting(inv, ctx)
    text = t._("Only notifbot admins (`{setting}`) can {action}; ask an admin.").format(
        setting=setting, action=t._(spec.admin) if spec.admin else ""
    )
    if admins:
        text += " " + t._("Admins: {admins}.").format(admins=", ".join(admins))
    text += " " + t._("Read-only commands are open to everyone.")
    return Refusal(t.pgettext("heading", "Not allowed"), (Section(text=text),), ok=False)


def _channel_texts(inv: Invocation, ctx: CommandContext) -> tuple[str, str | None]:
    """(locale, zone) of the channel asked in: its destination's own, else the global ones (`en`, no zone)."""
    s = ctx.settings
    channel = inv.channel_id
    if channel:
        for dest in s.destinations.values():
            target = target_of(dest)
            if target == channel or target.rsplit("/", 1)[-1] == channel:  # Teams targets are team/channel
                return dest.locale or s.locale, dest.timezone or s.timezone
    return s.locale, s.timezone


def texts_of(inv: Invocation, ctx: CommandContext, shared: bool = False) -> Texts:
    """The reply's language and zone (docs/design/locale.md §5): the asker's own (Slack, answers only they see),
    then the channel's destination, then the global settings, then `en`."""
    locale, zone = _channel_texts(inv, ctx)
    hint = (inv.locale_hint or "").replace("_", "-").split("-")[0].lower()
    if not shared and hint in available():
        return texts_for(hint, inv.zone_hint if zone_for(inv.zone_hint) is not None else zone)
    return texts_for(locale, zone)


async def allowed(spec: CommandSpec, inv: Invocation, ctx: CommandContext) -> bool:
    """The admin filter: open commands pass; admin commands need `ctx.is_admin` (this transport's admins)."""
    return spec.admin is None or await ctx.is_admin(inv.user_id)


async def invoke(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    """The answer to a parsed command: a Refusal for a non-admin, else its handler's reply (may raise)."""
    spec = BY_NAME[cmd.name]
    inv = replace(inv, texts=texts_of(inv, ctx, spec.shareable and cmd.share))
    if not await allowed(spec, inv, ctx):
        return refusal(spec, inv, ctx)
    reply = await spec.run(inv, cmd, ctx)
    return replace(reply, visibility=visibility(cmd.share)) if spec.shareable else reply


async def handle(inv: Invocation, ctx: CommandContext) -> Reply:
    """The reply to one typed command; an unexpected failure is logged and answered without details."""
    try:
        return await invoke(inv, parse(inv.text), ctx)
    except Exception:
        log.exception("command failed", extra={"command_text": inv.text[:200], "user": inv.user_id})
        t = texts_of(inv, ctx)
        return Reply(
            t.pgettext("heading", "Something went wrong"),
            (Section(text=t._("Something went wrong; the error was logged. Please try again.")),),
            ok=False,
        )
