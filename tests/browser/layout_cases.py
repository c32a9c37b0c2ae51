"""The messages the layout test shows: every bundled sample × variant × language, as posted and at full length.

Each sample is shown as the webhook parses it, and again with every text value it accepts made as long as it
accepts ("long"): those values are what the renderers must cut, and where a cut value shows, `cut_texts` checks that
the copy ends with the bot's "…" and hands back its end for the page check to find on screen.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from markupsafe import Markup

from notifbot.errors import NotifbotError
from notifbot.groups import GroupView, ThreadItems
from notifbot.i18n import EN, Texts, texts_for
from notifbot.kinds import item_label, load_samples
from notifbot.model import Acked, Notification
from notifbot.render.card_html import render_card_html
from notifbot.render.slack import render_slack, render_slack_thread
from notifbot.render.slack_html import render_slack_html
from notifbot.render.teams import render_teams, render_teams_thread
from notifbot.sources.events import parse_event
from notifbot.text import ELLIPSIS
from tests.unit.render.helpers import T

SAMPLES = load_samples()
LANGUAGES: Mapping[str, Texts] = {"en": EN, "sv": texts_for("sv", "Europe/Stockholm")}
ACKED = Acked("U0BOB", T + timedelta(minutes=7))
# the lengths tried for a long value, longest first: the envelope's summary takes 3,000, most fields 1,000 or 10,000
LONG_LENGTHS = (2_900, 1_000)
_FILLER = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima " * 50
# an unbreakable word early on: a cut value still holds part of it, which the column must wrap, not overflow
_LONG_WORD = "W" * 300
AXE_STRIDE = 5  # see axe_ids
HEAD = 16  # characters that find a long value's copies: its unique tag and the start of the word


def long_value(tag: str, length: int) -> str:
    """A value of `length` characters (letters and single spaces: nothing any renderer escapes or collapses)."""
    return f"{tag}Zq {_LONG_WORD} {_FILLER}"[:length].strip()


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _string_paths(item, (*path, i))
    elif isinstance(value, str):
        yield path


def lengthened(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """`raw` with its summary and each text field (nested ones too) as long as the event still validates, and the
    long values put in. A value its kind refuses at any length (a URL, a time, an enumeration) stays as it was."""
    event = copy.deepcopy(dict(raw))
    paths = [("summary",)] * ("summary" in event) + [
        ("fields", *p) for p in _string_paths(event.get("fields"))
    ]
    values: dict[str, str] = {}
    for path in paths:
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        original = parent[path[-1]]
        tag = "".join(str(k) for k in path[1:] or path).replace("_", "")
        for length in LONG_LENGTHS:
            parent[path[-1]] = long_value(tag, length)
            try:
                parse_event(event, now=T)
            except NotifbotError:
                parent[path[-1]] = original
                continue
            values[parent[path[-1]][:HEAD]] = parent[path[-1]]
            break
    return event, values


def _group(n: Notification, t: Texts, state: str = "firing") -> GroupView:
    """A group of 12 events like `n` over 25 minutes listing the first three (as the golden tests build it)."""
    items = tuple(f"{item_label(n, t)} #{i}" for i in range(1, 4))
    return GroupView(
        n, 12, T, T + timedelta(minutes=25), items, n.severity, state, key=f"kind={n.kind_label}"
    )


def _thread(n: Notification, t: Texts) -> ThreadItems:
    return ThreadItems(tuple(f"{item_label(n, t)} #{i}" for i in range(4, 7)), 4, 12)


Variant = Callable[[Notification, Texts], dict[str, Any]]
# what each renderer makes of one event; Teams has no interactive form (a workflow posts no buttons to click)
SLACK: Mapping[str, Variant] = {
    "single": lambda n, t: render_slack(n, texts=t),
    "interactive": lambda n, t: render_slack(n, interactive=True, texts=t),
    "acknowledged": lambda n, t: render_slack(n, interactive=True, acked=ACKED, texts=t),
    "grouped": lambda n, t: render_slack(n, interactive=True, group=_group(n, t), texts=t),
    "resolved": lambda n, t: render_slack(n, interactive=True, group=_group(n, t, "resolved"), texts=t),
    "thread": lambda n, t: render_slack_thread(_thread(n, t), texts=t),
}
TEAMS: Mapping[str, Variant] = {
    "single": lambda n, t: render_teams(n, texts=t),
    "acknowledged": lambda n, t: render_teams(n, acked=ACKED, texts=t),
    "grouped": lambda n, t: render_teams(n, group=_group(n, t), texts=t),
    "resolved": lambda n, t: render_teams(n, group=_group(n, t, "resolved"), texts=t),
    "thread": lambda n, t: render_teams_thread(_thread(n, t), texts=t),
}
# keys whose strings are not on screen: a confirm dialog (closed until clicked), what a click sends, URLs, and the
# notification text (Slack's top-level `text`, handled in cut_texts; Teams' fallbackText): the blocks or card show
HIDDEN_KEYS: Mapping[str, frozenset[str]] = {
    "slack": frozenset({"confirm", "value", "action_id", "block_id", "url"}),
    "teams": frozenset({"fallbackText", "url"}),  # a Fact's `value` is on screen
}


@dataclass(frozen=True)
class Case:
    """One message on the page: where it came from, its JSON and HTML, and what the page must show of it."""

    id: str  # "slack/sv/campaign_failure/long/grouped"
    lang: str
    html: Markup
    buttons: int  # buttons the JSON asks for (not counting a confirm dialog's own)
    cut: tuple[str, ...]  # the end ("…" included) of every copy of a long value the bot cut, as shown
    uncut: tuple[str, ...]  # every copy of a long value cut without "…" (a failure)


def _strings(value: Any, hidden: frozenset[str], shown: bool = True) -> Iterator[tuple[str, bool]]:
    """Every string in `value` and whether it is on screen (not under a `hidden` key)."""
    if isinstance(value, str):
        yield value, shown
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _strings(item, hidden, shown and k not in hidden)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, hidden, shown)


def cut_texts(
    message: Mapping[str, Any], values: Mapping[str, str], platform: str
) -> tuple[list[str], list[str]]:
    """(ends, faults): wherever one of the long `values` (by its first HEAD characters) shows in the message but
    not whole, the copy must go on with "…": its last 30 characters and the "…" are an end to find on the page (if
    the string is on screen), else the copy is a fault."""
    ends: list[str] = []
    faults: list[str] = []
    hidden = HIDDEN_KEYS[platform]
    for key, value in message.items():
        on_screen = key not in hidden and not (platform == "slack" and key == "text")
        for s, shown in _strings(value, hidden, on_screen):
            _cuts_in(s, values, ends if shown else [], faults)
    return ends, faults


def _cuts_in(s: str, values: Mapping[str, str], ends: list[str], faults: list[str]) -> None:
    for head, value in values.items():
        start = s.find(head)
        while start != -1:
            kept = _common_prefix(s, start, value)
            if kept < len(value):
                copy_end = start + kept
                if s.startswith(ELLIPSIS, copy_end):
                    ends.append(s[max(start, copy_end - 30) : copy_end + 1])
                else:
                    faults.append(f"{s[max(start, copy_end - 30) : copy_end]!r} cut without {ELLIPSIS!r}")
            start = s.find(head, start + 1)


def _common_prefix(s: str, start: int, value: str) -> int:
    """How many leading characters of `value` `s` holds at `start` (a binary search on slices: values are long)."""
    low, high = 0, min(len(value), len(s) - start)
    while low < high:
        mid = (low + high + 1) // 2
        if s[start : start + mid] == value[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _buttons(message: Mapping[str, Any], platform: str) -> int:
    """Slack: every `button` element (actions and accessories); Teams: every action of the card or an ActionSet."""

    def walk(value: Any, key: object = None) -> Iterator[Mapping[str, Any]]:
        if isinstance(value, dict):
            yield value
            for k, item in value.items():
                if k != "confirm":
                    yield from walk(item, k)
        elif isinstance(value, list):
            for item in value:
                if platform == "teams" and key == "actions" and isinstance(item, dict):
                    yield {"type": "button"}
                yield from walk(item, None)

    return sum(1 for d in walk(message) if d.get("type") == "button")


def cases() -> list[Case]:
    """Every sample as posted × every variant × English and Swedish, and at full length × every variant in Swedish
    (the values, not the language, are what is long), on Slack and on Teams."""
    out: list[Case] = []
    for name in sorted(SAMPLES):
        long_raw, values = lengthened(SAMPLES[name])
        forms: list[tuple[str, str, Mapping[str, Any], Mapping[str, str]]] = [
            ("posted", lang, SAMPLES[name], {}) for lang in LANGUAGES
        ]
        forms.append(("long", "sv", long_raw, values))
        for form, lang, raw, long_values in forms:
            n = parse_event(raw, now=T)
            for platform, variants, to_html in (
                ("slack", SLACK, render_slack_html),
                ("teams", TEAMS, render_card_html),
            ):
                for variant, render in variants.items():
                    message = render(n, LANGUAGES[lang])
                    ends, faults = cut_texts(message, long_values, platform)
                    out.append(
                        Case(
                            f"{platform}/{lang}/{name}/{form}/{variant}",
                            lang,
                            to_html(message),
                            _buttons(message, platform),
                            tuple(ends),
                            tuple(faults),
                        )
                    )
    return out


def axe_ids() -> set[str]:
    """The cases axe checks: one per platform and variant, English and Swedish in turn, each a different sample (a
    stride through them; with these samples each platform's picks hold every severity's colours). axe's time grows
    with the page and its colour-contrast rule costs ~0.04 s per message, and the other cases differ only in text."""
    names = sorted(SAMPLES)
    langs = list(LANGUAGES)
    combos = [("slack", v) for v in SLACK] + [("teams", v) for v in TEAMS]
    return {
        f"{platform}/{langs[k % len(langs)]}/{names[(k * AXE_STRIDE) % len(names)]}/posted/{variant}"
        for k, (platform, variant) in enumerate(combos)
    }
