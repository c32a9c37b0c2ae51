"""Parses `/marketo` text into a Command; pure and never raises (bad input becomes help with an error line)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

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
READ_ONLY = frozenset({"quota", "stale-triggers", "recent", "mutes", "routes", "status"})

_NAMES = {
    "help": "help",
    "?": "help",
    "-h": "help",
    "--help": "help",
    "usage": "help",
    "quota": "quota",
    "stale-triggers": "stale-triggers",
    "stale_triggers": "stale-triggers",
    "stale": "stale-triggers",
    "recent": "recent",
    "mute": "mute",
    "unmute": "unmute",
    "mutes": "mutes",
    "routes": "routes",
    "status": "status",
}
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNITS = {
    **{u: "m" for u in ("m", "min", "mins", "minute", "minutes")},
    **{u: "h" for u in ("h", "hr", "hrs", "hour", "hours")},
    **{u: "d" for u in ("d", "day", "days")},
    **{u: "w" for u in ("w", "wk", "wks", "week", "weeks")},
}
_DURATION = re.compile(r"(?:\d{1,6}[a-z]+)+")
_DURATION_PART = re.compile(r"(\d{1,6})([a-z]+)")
_DAYS = re.compile(r"(\d{1,6})(?:d|days?)?")
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")


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


def _quote(word: str) -> str:
    return f"'{word[:40]}…'" if len(word) > 40 else f"'{word}'"


def _is_int(word: str) -> bool:
    return word.isascii() and word.isdigit()


def _help(error: str | None = None) -> Command:
    return Command("help", error=error)


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `2h`, `1d`, `1w`, `90min`, `1h30m` → a positive timedelta; None when it is not one."""
    word = text.strip().lower()
    if not _DURATION.fullmatch(word):
        return None
    seconds = 0
    for number, unit in _DURATION_PART.findall(word):
        canonical = _UNITS.get(unit)
        if canonical is None:
            return None
        seconds += int(number) * _UNIT_SECONDS[canonical]
    return timedelta(seconds=seconds) if seconds > 0 else None


def _unknown_kind(word: str, allowed: tuple[str, ...]) -> Command:
    return _help(f"unknown kind {_quote(word)}; use one of: {', '.join(allowed)}")


def _stale(args: list[str], share: bool) -> Command:
    if not args:
        return Command("stale-triggers", number=DEFAULT_STALE_DAYS, share=share)
    match = _DAYS.fullmatch(args[0].lower())
    days = int(match.group(1)) if match else 0
    if len(args) > 1 or not 1 <= days <= MAX_STALE_DAYS:
        return _help(
            f"stale-triggers takes a number of days from 1 to {MAX_STALE_DAYS}, e.g. `stale-triggers 90`"
            f" (got {_quote(' '.join(args))})"
        )
    return Command("stale-triggers", number=days, share=share)


def _recent(args: list[str], share: bool) -> Command:
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
            return _help(
                f"usage: recent [kind] [n], e.g. `recent crm_sync 20` (got {_quote(' '.join(args))})"
            )
    return Command("recent", kind=kind, number=number or DEFAULT_RECENT, share=share)


def _mute(args: list[str]) -> Command:
    if len(args) < 2:
        return _help("usage: mute <kind> <duration> [reason], e.g. `mute crm_sync 2h sync user rotation`")
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
        return _help(f"{_quote(args[1])} is not a duration; {hint}")
    if total > MAX_MUTE:
        return _help("a mute lasts at most 30 days")
    reason = " ".join(args[1 + used :])[:MAX_REASON] or None
    return Command("mute", kind=kind, duration=total, reason=reason)


def _unmute(args: list[str]) -> Command:
    if len(args) != 1:
        return _help("usage: unmute <kind>, e.g. `unmute crm_sync` (`mutes` lists what is muted)")
    kind = args[0].lower()
    # Not limited to known kinds: the Mute button silences an unknown kind by the name its sender used.
    if kind not in MUTABLE_KINDS and not _LABEL.fullmatch(kind):
        return _unknown_kind(args[0], MUTABLE_KINDS)
    return Command("unmute", kind=kind)


def _parse(text: str) -> Command:
    words = text.split()
    if not words:
        return _help()
    name = _NAMES.get(words[0].lower())
    if name is None:
        return _help(f"unknown command {_quote(words[0])}")
    args = words[1:]
    share = False
    if name in READ_ONLY:
        share = any(w.lower() == SHARE for w in args)
        args = [w for w in args if w.lower() != SHARE]
        flag = next((w for w in args if w.startswith("--")), None)
        if flag is not None:
            return _help(f"unknown option {_quote(flag)} for {name}")
    if name == "help":
        return _help()
    if name == "stale-triggers":
        return _stale(args, share)
    if name == "recent":
        return _recent(args, share)
    if name == "mute":
        return _mute(args)
    if name == "unmute":
        return _unmute(args)
    return Command(name, share=share)


def parse(text: str) -> Command:
    """The command in `text` (what follows the slash command); anything unreadable becomes help with an error."""
    try:
        return _parse(text if isinstance(text, str) else "")
    except Exception:  # pure string handling should not fail; never let a parser bug reach the user
        return _help("could not read that command")
