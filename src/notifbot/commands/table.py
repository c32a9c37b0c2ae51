"""The command table: every command declared once (name, aliases, argument grammar, help, who may run it, handler).

Parsing (`commands.parse`), the help card (below) and dispatch with its admin filter (`commands.core`) are all
derived from COMMANDS. To add a command: write its handler, add one CommandSpec here (and a grammar in
`commands.args` if it takes arguments).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from notifbot.commands import handlers
from notifbot.commands.acks import acknowledge_alert
from notifbot.commands.args import (
    DEFAULT_RECENT,
    DEFAULT_STALE_DAYS,
    MUTABLE_KINDS,
    Command,
    Grammar,
    help_args,
    mute_args,
    no_args,
    recent_args,
    stale_args,
    unmute_args,
)
from notifbot.commands.common import admins_setting, command_name
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.muting import mute, mutes, unmute
from notifbot.commands.quota import quota_reply
from notifbot.commands.recent import recent_reply
from notifbot.commands.triggers import stale_reply
from notifbot.replies import Item, Reply, Section

Run = Callable[[Invocation, Command, CommandContext], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """One command: how it is typed and shown in help, who may run it, and what answers it.

    `admin` is what a non-admin is told they cannot do ("mute"); None opens the command to everyone.
    `shareable` commands take `--share` (answer for everyone in the channel) and refuse other options.
    `on_alert` commands act on a posted alert (its button, or a reply in its thread): never typed, not in help.
    """

    name: str
    usage: str
    help: str
    run: Run
    aliases: tuple[str, ...] = ()
    args: Grammar = no_args
    admin: str | None = None
    shareable: bool = False
    on_alert: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)


async def _help(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return help_reply(inv, ctx, cmd.error)


async def _quota(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await quota_reply(ctx, cmd.share)


async def _stale(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await stale_reply(ctx, cmd.number or DEFAULT_STALE_DAYS, cmd.share)


async def _recent(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await recent_reply(inv, ctx, cmd.kind, cmd.number or DEFAULT_RECENT)


async def _mutes(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await mutes(inv, ctx)


async def _routes(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return handlers.routes_reply(ctx)


async def _status(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await handlers.status_reply(ctx)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("help", "", "this card", _help, aliases=("?", "-h", "--help", "usage"), args=help_args),
    CommandSpec(
        "quota",
        "[--share]",
        "API calls used today, time to the reset, burn-rate forecast, top API users",
        _quota,
        shareable=True,
    ),
    CommandSpec(
        "stale-triggers",
        "[days] [--share]",
        "active trigger campaigns idle for days or more (default 90)",
        _stale,
        aliases=("stale_triggers", "stale"),
        args=stale_args,
        shareable=True,
    ),
    CommandSpec(
        "recent",
        "[kind] [n]",
        "the latest notifications with their status and links (default 10, up to 50)",
        _recent,
        args=recent_args,
        shareable=True,
    ),
    CommandSpec(
        "mute",
        '[kind] [key=value …] <duration> [--reason "…"]',
        "stop posting a kind, or what matches key=value (* wildcards), for a while (still stored)",
        mute,
        args=mute_args,
        admin="mute",
    ),
    CommandSpec("unmute", "<kind>", "end a mute", unmute, args=unmute_args, admin="unmute"),
    CommandSpec("mutes", "", "the mutes in force", _mutes, shareable=True),
    CommandSpec("routes", "", "where each notification goes, in order", _routes, shareable=True),
    CommandSpec(
        "status",
        "",
        "version, uptime, outbox, dead deliveries, last delivery, last Marketo poll",
        _status,
        shareable=True,
    ),
    CommandSpec(
        "acknowledge",
        "",
        "record who is handling an alert and show it on the alert",
        acknowledge_alert,
        aliases=("ack", "acknowledged"),
        admin="acknowledge alerts",
        on_alert=True,
    ),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}
TYPED: dict[str, CommandSpec] = {w: spec for spec in COMMANDS if not spec.on_alert for w in spec.words}
ON_ALERT: dict[str, CommandSpec] = {w: spec for spec in COMMANDS if spec.on_alert for w in spec.words}


def _and(words: list[str]) -> str:
    """ "mute", "mute and unmute", "a, b and c"."""
    return " and ".join(filter(None, (", ".join(words[:-1]), words[-1]))) if words else ""


def help_reply(inv: Invocation, ctx: CommandContext, error: str | None = None) -> Reply:
    """The usage card (every typed command, in table order), led by what went wrong when input was not understood."""
    name = command_name(inv, ctx)
    typed = [spec for spec in COMMANDS if not spec.on_alert]
    items = tuple(
        Item(
            " ".join(filter(None, (name, spec.name, spec.usage))),
            detail=f"admins: {spec.help}" if spec.admin else spec.help,
        )
        for spec in typed
    )
    sections = [Section(text=f"Sorry, {error}.")] if error else []
    sections.append(Section(items=items))
    sections.append(
        Section(
            text=f"Kinds: {', '.join(MUTABLE_KINDS)}.\nDurations: 30m, 2h, 1d, 1w or 1h30m; at most 30 days."
        )
    )
    setting, _ = admins_setting(inv, ctx)
    guarded = _and([spec.name for spec in typed if spec.admin])
    footer = f"Read-only commands are open to everyone; {guarded} need a notifbot admin (`{setting}`)."
    return Reply(f"{name} — Marketo notifications", tuple(sections), footer=footer, ok=error is None)
