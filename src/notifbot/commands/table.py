"""The command table: every command declared once (name, aliases, argument grammar, help, who may run it, handler).

Parsing (`commands.parse`), the help card (below) and dispatch with its admin filter (`commands.core`) are all
derived from COMMANDS. To add a command: write its handler, add one CommandSpec here (and a grammar in
`commands.args` if it takes arguments).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

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
from notifbot.i18n import N_, Texts
from notifbot.replies import Item, Reply, Section

Run = Callable[[Invocation, Command, CommandContext], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """One command: how it is typed and shown in help, who may run it, and what answers it.

    `admin` is what a non-admin is told they cannot do ("mute"); None opens the command to everyone.
    `shareable` commands take `--share` (answer for everyone in the channel) and refuse other options.
    `on_alert` commands act on a posted alert (its button, or a reply in its thread): never typed, not in help.
    `names` are the command's words per locale (the first is what help in that locale shows); every name of every
    locale works in every channel. `usage`, `help` and `admin` are N_() messages, translated where they are shown.
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
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def words(self) -> tuple[str, ...]:
        """The name, every alias and every locale's names."""
        return (self.name, *self.aliases, *(w for words in self.names.values() for w in words))

    def shown(self, locale: str) -> str:
        """The name help shows in `locale`: its first name there, else the English one."""
        return next(iter(self.names.get(locale, ())), self.name)


async def _help(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return help_reply(inv, ctx, cmd.problem.text(inv.texts) if cmd.problem else cmd.error)


async def _quota(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await quota_reply(ctx, cmd.share, inv.texts)


async def _stale(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await stale_reply(ctx, cmd.number or DEFAULT_STALE_DAYS, cmd.share, inv.texts)


async def _recent(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await recent_reply(inv, ctx, cmd.kind, cmd.number or DEFAULT_RECENT)


async def _mutes(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await mutes(inv, ctx)


async def _routes(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return handlers.routes_reply(ctx, inv.texts)


async def _status(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    return await handlers.status_reply(ctx, inv.texts)


# TRANSLATORS: the usage and help lines of `/marketo help`; option names (--share), kind names and key=value stay
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help",
        "",
        N_("this card"),
        _help,
        aliases=("?", "-h", "--help", "usage"),
        args=help_args,
        names={"sv": ("hjälp", "hjalp")},
    ),
    CommandSpec(
        "quota",
        N_("[--share]"),
        N_("API calls used today, time to the reset, burn-rate forecast, top API users"),
        _quota,
        shareable=True,
        names={"sv": ("kvot",)},
    ),
    CommandSpec(
        "stale-triggers",
        N_("[days] [--share]"),
        N_("active trigger campaigns idle for days or more (default 90)"),
        _stale,
        aliases=("stale_triggers", "stale"),
        args=stale_args,
        shareable=True,
        names={"sv": ("inaktiva-triggers", "inaktiva", "vilande-triggers", "vilande")},
    ),
    CommandSpec(
        "recent",
        N_("[kind] [n]"),
        N_("the latest notifications with their status and links (default 10, up to 50)"),
        _recent,
        args=recent_args,
        shareable=True,
        names={"sv": ("senaste",)},
    ),
    CommandSpec(
        "mute",
        N_('[kind] [key=value …] <duration> [--reason "…"]'),
        N_("stop posting a kind, or what matches key=value (* wildcards), for a while (still stored)"),
        mute,
        args=mute_args,
        admin=N_("mute"),
        names={"sv": ("tysta",)},
    ),
    CommandSpec(
        "unmute",
        N_("<kind> | [kind] key=value …"),
        N_("end every mute of a kind, or the one mute of exactly that key=value scope (as `mutes` lists it)"),
        unmute,
        args=unmute_args,
        admin=N_("unmute"),
        names={"sv": ("avtysta",)},
    ),
    CommandSpec("mutes", "", N_("the mutes in force"), _mutes, shareable=True, names={"sv": ("tystade",)}),
    CommandSpec(
        "routes",
        "",
        N_("where each notification goes, in order"),
        _routes,
        shareable=True,
        names={"sv": ("rutter",)},
    ),
    CommandSpec(
        "status",
        "",
        N_("version, uptime, outbox, dead deliveries, last delivery, last Marketo poll"),
        _status,
        shareable=True,
    ),
    CommandSpec(
        "acknowledge",
        "",
        N_("record who is handling an alert and show it on the alert"),
        acknowledge_alert,
        aliases=("ack", "acknowledged"),
        admin=N_("acknowledge alerts"),
        on_alert=True,
        names={"sv": ("kvittera", "kvitterat", "kvitt")},
    ),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}
TYPED: dict[str, CommandSpec] = {w: spec for spec in COMMANDS if not spec.on_alert for w in spec.words}
ON_ALERT: dict[str, CommandSpec] = {w: spec for spec in COMMANDS if spec.on_alert for w in spec.words}


def _line(spec: CommandSpec, name: str, t: Texts) -> Item:
    """One help line: the command as typed in `t`'s locale (with its English name beside when it differs)."""
    shown = spec.shown(t.locale)
    usage = t._(spec.usage) if spec.usage else ""
    text = " ".join(filter(None, (name, shown, usage)))
    if shown != spec.name:
        text += f" ({spec.name})"
    detail = t._(spec.help)
    return Item(text, detail=t._("admins: {help}").format(help=detail) if spec.admin else detail)


def help_reply(inv: Invocation, ctx: CommandContext, error: str | None = None) -> Reply:
    """The usage card (every typed command, in table order), led by what went wrong when input was not understood."""
    t = inv.texts
    name = command_name(inv, ctx)
    typed = [spec for spec in COMMANDS if not spec.on_alert]
    items = tuple(_line(spec, name, t) for spec in typed)
    sections = [Section(text=t._("Sorry, {error}.").format(error=error))] if error else []
    sections.append(Section(items=items))
    kinds = t._("Kinds: {kinds}.\nDurations: 30m, 2h, 1d, 1w or 1h30m; at most 30 days.").format(
        kinds=", ".join(MUTABLE_KINDS)
    )
    quoting = t._(
        'Values with spaces go in double quotes, e.g. `campaign_name="Q4 Webinar"`; inside them write `\\"` for a '
        "quote and `\\\\` for a backslash."
    )
    sections.append(Section(text=f"{kinds}\n{quoting}"))
    setting, _ = admins_setting(inv, ctx)
    guarded = t.join([spec.shown(t.locale) for spec in typed if spec.admin])
    footer = t._(
        "Read-only commands are open to everyone; {commands} need a notifbot admin (`{setting}`)."
    ).format(commands=guarded, setting=setting)
    return Reply(
        t._("{command} — Marketo notifications").format(command=name),
        tuple(sections),
        footer=footer,
        ok=error is None,
    )
