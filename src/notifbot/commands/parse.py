"""Parses `/marketo` text into a Command by the command table; pure and never raises (bad input becomes help)."""

from __future__ import annotations

from notifbot.commands.args import (
    KINDS,
    MUTABLE_KINDS,
    SHARE_WORDS,
    AlertRef,
    Command,
    help_command,
    parse_duration,
    quote,
)
from notifbot.commands.table import ON_ALERT, TYPED
from notifbot.i18n import N_
from notifbot.scopes import words as read_words

# the grammar lives in args.py; these names stay importable from here, where callers have always found them
__all__ = ["KINDS", "MUTABLE_KINDS", "Command", "parse", "parse_alert_reply", "parse_duration"]


def _parse(text: str) -> Command:
    words = read_words(text)  # quotes and backslashes as `mute` documents them, for every command alike
    if words is None:
        return help_command(N_("a quote is not closed"))
    if not words:
        return help_command()
    spec = TYPED.get(words[0].lower())
    if spec is None:
        return help_command(N_("unknown command {word}"), word=quote(words[0]))
    args = words[1:]
    share = False
    if spec.shareable:
        share = any(w.lower() in SHARE_WORDS for w in args)
        args = [w for w in args if w.lower() not in SHARE_WORDS]
        flag = next((w for w in args if w.startswith("--")), None)
        if flag is not None:
            return help_command(
                N_("unknown option {option} for {command}"), option=quote(flag), command=spec.name
            )
    return spec.args(spec.name, args, share)


def parse(text: str) -> Command:
    """The command in `text` (what follows the slash command); anything unreadable becomes help with an error."""
    try:
        return _parse(text if isinstance(text, str) else "")
    except Exception:  # pure string handling should not fail; never let a parser bug reach the user
        return help_command(N_("could not read that command"))


def parse_alert_reply(text: str, alert: AlertRef) -> Command | None:
    """The alert command a reply in an alert's thread is, in full (`ack`), or None when it is not one."""
    spec = ON_ALERT.get(text.strip().lower())
    return Command(spec.name, alert=alert) if spec is not None else None
