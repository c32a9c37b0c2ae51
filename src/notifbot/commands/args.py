"""The argument grammar of each command: words in, a Command out; pure (bad input becomes help with an error)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from notifbot import durations
from notifbot.i18n import EN, N_, Texts
from notifbot.model import Kind
from notifbot.scopes import KIND_WORD, Matchers, match_key, read_group_key

KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
MUTABLE_KINDS: tuple[str, ...] = (*KINDS, "all")
MAX_MUTE = timedelta(days=30)
DEFAULT_STALE_DAYS = 90
MAX_STALE_DAYS = 3650
DEFAULT_RECENT = 10
MAX_RECENT = 50
MAX_REASON = 500
SHARE = "--share"
SHARE_WORDS = frozenset({SHARE, "--dela"})  # `--dela`: the Swedish spelling, accepted in every channel
_DAYS = re.compile(r"(\d{1,6})(?:d|days?)?")


@dataclass(frozen=True)
class AlertRef:
    """A posted alert a command acts on: where it was posted, its message id there, and what acted (for retries)."""

    target: str
    message: str
    via: str | None = None


@dataclass(frozen=True)
class Problem:
    """Why typed input was not understood: a catalog message and its values, worded in the reply's language."""

    message: str  # an N_() message id with {placeholders}
    values: tuple[tuple[str, str | Problem], ...] = ()

    def text(self, t: Texts = EN) -> str:
        """The message in `t`'s language (values that are problems themselves translated too)."""
        values = {k: v.text(t) if isinstance(v, Problem) else v for k, v in self.values}
        return t._(self.message).format(**values)


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
    matchers: tuple[tuple[str, str], ...] = ()  # `mute`: route-style key=value scopes (`*` wildcards)
    problem: Problem | None = field(default=None, compare=False)  # `error` before it is worded for the reply


Grammar = Callable[[str, list[str], bool], Command]
"""A command's argument grammar: (its name, the words after it, whether `--share` was given) -> a Command."""


def quote(word: str) -> str:
    """`word` in quotes for an error line, cut at 40 characters."""
    return f"'{word[:40]}…'" if len(word) > 40 else f"'{word}'"


def _is_int(word: str) -> bool:
    return word.isascii() and word.isdigit()


def help_command(message: str | None = None, **values: str | Problem) -> Command:
    """Help, led by what went wrong when `message` (an N_() id with `values` for its placeholders) is set."""
    if message is None:
        return Command("help")
    problem = Problem(message, tuple(values.items()))
    return Command("help", error=problem.text(), problem=problem)


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `2h`, `1d`, `1w`, `90min`, `1h30m` → a positive timedelta (no seconds); None when it is not one."""
    return durations.parse_duration(text, seconds=False)


def _unknown_kind(word: str, allowed: tuple[str, ...]) -> Command:
    return help_command(
        N_("unknown kind {word}; use one of: {kinds}"), word=quote(word), kinds=", ".join(allowed)
    )


def stale_args(name: str, args: list[str], share: bool) -> Command:
    """`stale-triggers [days]`: a number of days from 1 to MAX_STALE_DAYS (default DEFAULT_STALE_DAYS)."""
    if not args:
        return Command(name, number=DEFAULT_STALE_DAYS, share=share)
    match = _DAYS.fullmatch(args[0].lower())
    days = int(match.group(1)) if match else 0
    if len(args) > 1 or not 1 <= days <= MAX_STALE_DAYS:
        return help_command(
            N_("stale-triggers takes a number of days from 1 to {max}, e.g. `stale-triggers 90` (got {got})"),
            max=str(MAX_STALE_DAYS),
            got=quote(" ".join(args)),
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
                N_("usage: recent [kind] [n], e.g. `recent crm_sync 20` (got {got})"),
                got=quote(" ".join(args)),
            )
    return Command(name, kind=kind, number=number or DEFAULT_RECENT, share=share)


MUTE_USAGE = Problem(
    N_(
        'usage: mute [kind] [key=value …] <duration> [--reason "why"], e.g. `mute crm_sync 2h --reason "user '
        'rotation"` or `mute kind=campaign_failure instance=123-ABC-456 campaign_name=Q4* 4h`'
    )
)
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]{0,63})=(.*)", re.S)


def _matcher(word: str) -> tuple[str, str] | None:
    """(key, value) of a `key=value` word (the value as typed, quotes already read), else None."""
    found = _MATCHER.fullmatch(word)
    return (match_key(found.group(1)), found.group(2)) if found else None


def scope_of(value: str) -> tuple[str, Matchers] | None:
    """(kind, matchers) of a Mute button's value: a group key (its kind, else `all`, and its other values; a key's
    `-`, "no value", is left out: that event simply had no such value) or a kind's name; None if it is neither."""
    if "=" not in value:
        kind = value.strip().lower()[:100]
        return (kind, ()) if kind else None
    pairs = read_group_key(value)
    if pairs is None:
        return None
    kind = next((v for k, v in pairs if k == "kind" and v), "all").lower()
    return kind, tuple((match_key(k), v) for k, v in pairs if k != "kind" and v is not None)


def mute_args(name: str, words: list[str], share: bool) -> Command:
    """`mute [kind] [key=value …] <duration…> [--reason "…"]`: route-style matchers (`*` wildcards), a duration up
    to MAX_MUTE; any other word is an error, never taken as the reason. `words` are read by `scopes.words`."""
    kind: str | None = None
    matchers: list[tuple[str, str]] = []
    total, durations_seen = timedelta(), 0
    reason: str | None = None
    for i, word in enumerate(words):
        if word.lower() == "--reason":
            reason = " ".join(words[i + 1 :]).strip()[:MAX_REASON] or None
            if reason is None:
                return help_command(N_("--reason needs the reason after it; {usage}"), usage=MUTE_USAGE)
            break
        part = parse_duration(word)
        if part is not None:
            total += part
            durations_seen += 1
            continue
        found = _matcher(word)
        if found is not None and durations_seen == 0:
            key, value = found
            if key == "kind":
                if "*" not in value and value.lower() not in MUTABLE_KINDS:
                    return _unknown_kind(value, MUTABLE_KINDS)
                kind = value.lower()
            else:
                matchers.append((key, value))
            continue
        if i == 0 and word.lower() in MUTABLE_KINDS:
            kind = word.lower()
            continue
        if i == 0 and not matchers and KIND_WORD.fullmatch(word.lower()) and "=" not in word:
            return _unknown_kind(word, MUTABLE_KINDS)
        if durations_seen == 0 and _is_int(word):
            return help_command(N_("{word} is not a duration; add a unit, e.g. 30m or 2h"), word=quote(word))
        if durations_seen == 0 and (kind is not None or matchers):
            return help_command(
                N_("{word} is not a duration; use e.g. 30m, 2h, 1d, 1w or 1h30m"), word=quote(word)
            )
        return help_command(
            N_(
                "{word} is neither key=value, a duration nor --reason (a reason goes after --reason); {usage}"
            ),
            word=quote(word),
            usage=MUTE_USAGE,
        )
    if kind is None and not matchers:
        return help_command(N_("say what to mute: a kind, `all` or key=value; {usage}"), usage=MUTE_USAGE)
    if durations_seen == 0:
        return help_command(N_("how long? {usage}"), usage=MUTE_USAGE)
    if total > MAX_MUTE:
        return help_command(N_("a mute lasts at most 30 days"))
    return Command(name, kind=kind or "all", duration=total, reason=reason, matchers=tuple(matchers))


UNMUTE_USAGE = N_(
    "usage: unmute <kind> (every mute of that kind) or unmute [kind] key=value … (the one mute of exactly that "
    "scope, as `mutes` lists it), e.g. `unmute crm_sync` or `unmute kind=campaign_failure instance=123-ABC-456`"
)


def unmute_args(name: str, args: list[str], share: bool) -> Command:
    """`unmute <kind>` (every mute of that kind, also one only the Mute button knows) or `unmute [kind] key=value …`
    (the mute of exactly that scope: what `mutes` lists and a mute's reply suggests)."""
    kind: str | None = None
    matchers: list[tuple[str, str]] = []
    for i, word in enumerate(args):
        found = _matcher(word)
        if found is not None and found[0] == "kind" and kind is None and found[1]:
            kind = found[1].lower()  # any text: the Mute button silences a kind by the name its sender used
        elif found is not None and found[0] != "kind":
            matchers.append(found)
        elif i == 0 and found is None:
            kind = word.lower()
            # Not limited to known kinds: the Mute button silences an unknown kind by the name its sender used.
            if kind not in MUTABLE_KINDS and not KIND_WORD.fullmatch(kind):
                return _unknown_kind(word, MUTABLE_KINDS)
        else:
            return help_command(UNMUTE_USAGE)
    if kind is None and not matchers:
        return help_command(UNMUTE_USAGE)
    return Command(name, kind=kind or "all", matchers=tuple(matchers))


def no_args(name: str, args: list[str], share: bool) -> Command:
    """A command without arguments (extra words are ignored, as they always were)."""
    return Command(name, share=share)


def help_args(name: str, args: list[str], share: bool) -> Command:
    """`help` ignores whatever follows it."""
    return help_command()
