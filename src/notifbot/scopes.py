"""Mute scopes as text: the words `mute` and `unmute` read, values quoted so they read back, group keys read back.

The rules are a shell's, kept small (docs/reference.md §Chat commands): words split at whitespace; "double quotes"
keep spaces, and inside them `\\"` is a quote and `\\\\` a backslash (any other backslash stays); 'single quotes'
keep every character as is; outside quotes a backslash makes the next space, quote or backslash an ordinary
character. Slack's curly quotes count as quotes, and an apostrophe inside a word (don't) is just an apostrophe.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

from notifbot.text import one_line, truncate

# an opening quote and the character that closes it: straight quotes, and the curly ones Slack may send
QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”", "‘": "’", "’": "’"}
_LITERAL_INSIDE = frozenset("'’")  # single quotes: no escapes inside (as in a shell)
_APOSTROPHES = frozenset("'’")  # right after a letter or digit: an apostrophe (don't, it’s), not a quote
_DOUBLE = frozenset('"“”')
_SPECIAL = frozenset(QUOTES) | frozenset(QUOTES.values()) | {"\\"}
KEY = re.compile(
    r"[A-Za-z_][A-Za-z0-9_.-]{0,63}"
)  # a match key, as `routes[].match` and `group.by` take them
KIND_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")  # a kind that can be typed alone (`unmute crm_sync`)
ENVELOPE = frozenset(
    {"kind", "severity", "instance"}
)  # keys read in any case; a field or label keeps its own
LABEL_VALUE = 40  # characters of a value in a scope's label
_KEY_IS = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]{0,63})=")
_GROUP_PLAIN = re.compile(r"[A-Za-z0-9_.:@/-]+")  # a group key's unquoted value (routing._PLAIN)
_JSON = json.JSONDecoder()

Matchers = tuple[tuple[str, str], ...]


def words(text: str) -> list[str] | None:
    """The words of `text` by the rules above; None when a quote is left open."""
    out: list[str] = []
    word: list[str] = []
    started = False  # a word began (`""` is an empty word)
    closing: str | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if closing is not None:
            if ch == "\\" and closing not in _LITERAL_INSIDE and (nxt == "\\" or nxt in _DOUBLE):
                word.append(nxt)
                i += 1
            elif ch == closing:
                closing = None
            else:
                word.append(ch)
        elif ch == "\\" and nxt and (nxt.isspace() or nxt in _SPECIAL):
            word.append(nxt)
            started = True
            i += 1
        elif ch in QUOTES and not (ch in _APOSTROPHES and word and word[-1].isalnum()):
            closing, started = QUOTES[ch], True
        elif ch.isspace():
            if word or started:
                out.append("".join(word))
            word, started = [], False
        else:
            word.append(ch)
        i += 1
    if closing is not None:
        return None
    if word or started:
        out.append("".join(word))
    return out


def quote_value(value: str) -> str:
    """`value` as a word `words` reads back unchanged: as is when it can be, else in double quotes."""
    if value and not any(ch.isspace() or ch in _SPECIAL for ch in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def match_key(key: str) -> str:
    """A typed key as matched: kind, severity and instance in any case; a field or label name as written."""
    return key.lower() if key.lower() in ENVELOPE else key


def scope_text(kind: str, matchers: Matchers = ()) -> str:
    """A mute's scope as `mute` and `unmute` take it: `crm_sync`, `kind=campaign_failure error="a \\"b\\""`."""
    pairs = [f"{k}={quote_value(v)}" for k, v in matchers]
    if matchers and kind == "all":
        return " ".join(pairs)
    if not matchers and KIND_WORD.fullmatch(kind):
        return kind
    return " ".join([f"kind={quote_value(kind)}", *pairs])


def read_group_key(key: str) -> list[tuple[str, str | None]] | None:
    """The (key, value) pairs of a group key (`routing.group_key`: JSON-quoted values, `-` for none); None when
    `key` is not one."""
    out: list[tuple[str, str | None]] = []
    pos, n = 0, len(key)
    while pos < n:
        found = _KEY_IS.match(key, pos)
        if found is None:
            return None
        pos = found.end()
        value: str | None
        if key.startswith('"', pos):
            try:
                decoded, pos = _JSON.raw_decode(key, pos)
            except ValueError:
                return None
            if not isinstance(decoded, str):
                return None
            value = decoded
        else:
            end = key.find(" ", pos)
            end = n if end < 0 else end
            plain, pos = key[pos:end], end
            if not _GROUP_PLAIN.fullmatch(plain):
                return None
            value = None if plain == "-" else plain
        out.append((found.group(1), value))
        if pos < n:
            if key[pos] != " " or pos + 1 == n:
                return None
            pos += 1
    return out or None


def scope_label(pairs: Sequence[tuple[str, str | None]]) -> str:
    """A short label for people: the kind in words and the value that names the thing, e.g. `campaign failure ·
    Q4 Webinar Invites` (a name first, else the first value that is not an id, else any; cut with "…")."""
    kind = next((v for k, v in pairs if k == "kind" and v and v != "all"), None)
    rest = [(k, v) for k, v in pairs if k != "kind" and v]
    named = [v for k, v in rest if "name" in k.lower()]
    plain = [v for k, v in rest if k != "instance" and not (k.lower() == "id" or k.lower().endswith("_id"))]
    shown = (named or plain or [v for _, v in rest])[:1]
    parts = ([kind.replace("_", " ")] if kind else []) + [truncate(one_line(v), LABEL_VALUE) for v in shown]
    return " · ".join(parts)


@functools.lru_cache(maxsize=1024)  # each mute is checked against every event while it is in force
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def star_match(pattern: str, text: str) -> bool:
    """Whether `text` is `pattern`, where `*` stands for any text (and nothing else is special); as given, so
    callers fold case."""
    return _pattern(pattern).fullmatch(text) is not None
