"""Parses `/marketo` text into a command; never raises (unknown input becomes help with an error line)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from notifbot.model import Kind

MAX_MUTE = timedelta(days=30)
DEFAULT_STALE_DAYS = 90
DEFAULT_RECENT = 10
MAX_RECENT = 50
MUTABLE_KINDS = (*(k.value for k in Kind), "all")
_UNITS = {"m": 60, "min": 60, "mins": 60, "h": 3600, "hr": 3600, "hrs": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*(mins?|m|hrs?|h|d|w)")


@dataclass(frozen=True)
class Command:
    """A parsed command: its name and its arguments."""

    name: str
    kind: str | None = None
    number: int | None = None
    duration: timedelta | None = None
    reason: str | None = None
    share: bool = False
    error: str | None = None
    args: tuple[str, ...] = field(default=())


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `2h`, `1d`, `1w`, `90min`, `1h30m` → timedelta; None when it is not a duration."""
    text = text.strip().lower()
    if not text or _PART.sub("", text).strip():
        return None
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    return timedelta(seconds=seconds) if seconds > 0 else None


def _help(error: str | None = None) -> Command:
    return Command("help", error=error)


def _int(word: str) -> int | None:
    return int(word) if word.isdigit() else None


def parse(text: str) -> Command:
    """The command in `text` (what follows `/marketo`)."""
    words = text.split()
    share = any(w.lower() == "--share" for w in words)
    words = [w for w in words if w.lower() != "--share"]
    if not words:
        return _help()
    name, rest = words[0].lower(), words[1:]
    if name in ("help", "?"):
        return _help()
    if name == "quota":
        return Command("quota", share=share)
    if name in ("stale-triggers", "stale", "triggers"):
        days = _int(rest[0]) if rest else DEFAULT_STALE_DAYS
        if days is None or days < 1 or days > 3650:
            return _help(f"stale-triggers takes a number of days (1–3650), not '{rest[0]}'")
        return Command("stale-triggers", number=days, share=share)
    if name == "recent":
        kind, number = None, DEFAULT_RECENT
        for word in rest:
            if (n := _int(word)) is not None:
                number = max(1, min(n, MAX_RECENT))
            else:
                kind = word.lower()
        return Command("recent", kind=kind, number=number, share=share)
    if name == "mute":
        if len(rest) < 2:
            return _help("usage: mute <kind> <duration> [reason], e.g. `mute crm_sync 2h sync user rotation`")
        kind = rest[0].lower()
        if kind not in MUTABLE_KINDS:
            return _help(f"unknown kind '{rest[0]}'; one of: {', '.join(MUTABLE_KINDS)}")
        duration = parse_duration(rest[1])
        if duration is None:
            return _help(f"'{rest[1]}' is not a duration; use e.g. 30m, 2h, 1d, 1w")
        if duration > MAX_MUTE:
            return _help("a mute lasts at most 30 days")
        reason = " ".join(rest[2:]) or None
        return Command("mute", kind=kind, duration=duration, reason=reason)
    if name == "unmute":
        if len(rest) != 1:
            return _help("usage: unmute <kind>")
        return Command("unmute", kind=rest[0].lower())
    if name in ("mutes", "routes", "status"):
        return Command(name, share=share)
    return _help(f"unknown command '{words[0]}'")
