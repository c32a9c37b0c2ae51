"""The argument grammar of each command: words in, a Command out; pure (bad input becomes help with an error)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from notifbot import durations
from notifbot.model import Kind

KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
MUTABLE_KINDS: tuple[str, ...] = (*KINDS, "all")
MAX_MUTE = timedelta(days=30)
DEFAULT_STALE_DAYS = 90
MAX_STALE_DAYS = 3650
DEFAULT_RECENT = 10
MAX_RECENT = 50
MAX_REASON = 500
SHARE = "--share"
_DAYS = re.compile(r"(\d{1,6})(?:d|days?)?")
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class AlertRef:
    """A posted alert a command acts on: where it was posted, its message id there, and what acted (for retries)."""

    target: str
    message: str
    via: str | None = None


@dataclass(frozen=True)
class Command:
    """One parsed command: its canonical name and arguments; `error` is set only on help from bad input."""

    name: str
    kind: str | None = None
    number: int | None = None
    duration: timedelta | None = None
    reason: str | None = None
    share: bool = False
    error: str | None = None
    alert: AlertRef | None = None


Grammar = Callable[[str, list[str], bool], Command]
"""A command's argument grammar: (its name, the words after it, whether `--share` was given) -> a Command."""


def quote(word: str) -> str:
    """`word` in quotes for an error line, cut at 40 characters."""
    return f"'{word[:40]}…'" if len(word) > 40 else f"'{word}'"


def _is_int(word: str) -> bool:
    return word.isascii() and word.isdigit()


def help_command(error: str | None = None) -> Command:
    """Help, led by what went wrong when `error` is set."""
    return Command("help", error=error)


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `2h`, `1d`, `1w`, `90min`, `1h30m` → a positive timedelta (no seconds); None when it is not one."""
    return durations.parse_duration(text, seconds=False)


def _unknown_kind(word: str, allowed: tuple[str, ...]) -> Command:
    return help_command(f"unknown kind {quote(word)}; use one of: {', '.join(allowed)}")


def stale_args(name: str, args: list[str], share: bool) -> Command:
    """`stale-triggers [days]`: a number of days from 1 to MAX_STALE_DAYS (default DEFAULT_STALE_DAYS)."""
    if not args:
        return Command(name, number=DEFAULT_STALE_DAYS, share=share)
    match = _DAYS.fullmatch(args[0].lower())
    days = int(match.group(1)) if match else 0
    if len(args) > 1 or not 1 <= days <= MAX_STALE_DAYS:
        return help_command(
            f"stale-triggers takes a number of days from 1 to {MAX_STALE_DAYS}, e.g. `stale-triggers 90`"
            f" (got {quote(' '.join(args))})"
        )
    return Command(name, number=days, share=share)


def recent_args(name: str, args: list[str], share: bool) -> Command:
    """`recent [kind] [n]`: an optional kind (or `all`) and count, in either order."""
    kind: str | None = None
    number: int | None = None
    seen_kind = False
    for word in args:
        low = word.lower()
        if _is_int(low) and number is None:
            number = max(1, min(int(low[:6]), MAX_RECENT))
        elif not _is_int(low) and not seen_kind:
            if low not in MUTABLE_KINDS:
                return _unknown_kind(word, MUTABLE_KINDS)
            kind, seen_kind = (None if low == "all" else low), True
        else:
            return help_command(
                f"usage: recent [kind] [n], e.g. `recent crm_sync 20` (got {quote(' '.join(args))})"
            )
    return Command(name, kind=kind, number=number or DEFAULT_RECENT, share=share)


def mute_args(name: str, args: list[str], share: bool) -> Command:
    """`mute <kind> <duration> [reason]`: a kind (or `all`), durations summed up to MAX_MUTE, then a reason."""
    if len(args) < 2:
        return help_command(
            "usage: mute <kind> <duration> [reason], e.g. `mute crm_sync 2h sync user rotation`"
        )
    kind = args[0].lower()
    if kind not in MUTABLE_KINDS:
        return _unknown_kind(args[0], MUTABLE_KINDS)
    total = timedelta()
    used = 0
    for word in args[1:]:
        part = parse_duration(word)
        if part is None:
            break
        total += part
        used += 1
    if used == 0:
        hint = "add a unit, e.g. 30m or 2h" if _is_int(args[1]) else "use e.g. 30m, 2h, 1d, 1w or 1h30m"
        return help_command(f"{quote(args[1])} is not a duration; {hint}")
    if total > MAX_MUTE:
        return help_command("a mute lasts at most 30 days")
    reason = " ".join(args[1 + used :])[:MAX_REASON] or None
    return Command(name, kind=kind, duration=total, reason=reason)


def unmute_args(name: str, args: list[str], share: bool) -> Command:
    """`unmute <kind>`: one kind, also one only the Mute button knows."""
    if len(args) != 1:
        return help_command("usage: unmute <kind>, e.g. `unmute crm_sync` (`mutes` lists what is muted)")
    kind = args[0].lower()
    # Not limited to known kinds: the Mute button silences an unknown kind by the name its sender used.
    if kind not in MUTABLE_KINDS and not _LABEL.fullmatch(kind):
        return _unknown_kind(args[0], MUTABLE_KINDS)
    return Command(name, kind=kind)


def no_args(name: str, args: list[str], share: bool) -> Command:
    """A command without arguments (extra words are ignored, as they always were)."""
    return Command(name, share=share)


def help_args(name: str, args: list[str], share: bool) -> Command:
    """`help` ignores whatever follows it."""
    return help_command()
