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
from notifbot.replies import Reply, Section

log = logging.getLogger("notifbot.commands")


@dataclass(frozen=True)
class Refusal(Reply):
    """The admin filter's answer: this user may not run this command here."""


def refusal(spec: CommandSpec, inv: Invocation, ctx: CommandContext) -> Refusal:
    """Why a non-admin cannot run `spec`, naming the setting that governs the transport they asked on."""
    setting, admins = admins_setting(inv, ctx)
    text = f"Only notifbot admins (`{setting}`) can {spec.admin}; ask an admin." + (
        f" Admins: {', '.join(admins)}." if admins else ""
    )
    text += " Read-only commands are open to everyone."
    return Refusal("Not allowed", (Section(text=text),), ok=False)


async def allowed(spec: CommandSpec, inv: Invocation, ctx: CommandContext) -> bool:
    """The admin filter: open commands pass; admin commands need `ctx.is_admin` (this transport's admins)."""
    return spec.admin is None or await ctx.is_admin(inv.user_id)


async def invoke(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    """The answer to a parsed command: a Refusal for a non-admin, else its handler's reply (may raise)."""
    spec = BY_NAME[cmd.name]
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
        return Reply(
            "Something went wrong",
            (Section(text="Something went wrong; the error was logged. Please try again."),),
            ok=False,
        )
