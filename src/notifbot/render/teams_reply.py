"""Renders a command Reply as an Adaptive Card for Teams: the same content as Slack, kept under the size limit."""

from __future__ import annotations

import base64
from typing import Any

from notifbot.i18n import EN, Texts
from notifbot.links import DEFAULT_LINKS, LinkPolicy, classify_link
from notifbot.render.card import (
    MAX_CARD_BYTES,
    Element,
    card,
    card_size,
    facts,
    linked_runs,
    plain,
    rich,
    run,
)
from notifbot.render.chart import png
from notifbot.render.content import more_line
from notifbot.render.slack_reply import UNTITLED
from notifbot.replies import Chart, Item, Reply, Section
from notifbot.text import one_line, truncate

# (chars per text, items per section, chars per item); each step down is tried until the card fits
LEVELS = ((3_000, 50, 300), (1_000, 20, 160), (300, 5, 80))
TITLE = 200
ALT_TEXT = 500


def _image(chart: Chart) -> Element:
    """The chart as a PNG in a data URI (Adaptive Cards take them from 1.2: nothing to host), its numbers as alt text."""
    data = base64.b64encode(png(chart)).decode("ascii")
    return {
        "type": "Image",
        "url": f"data:image/png;base64,{data}",
        "altText": truncate(one_line(chart.alt), ALT_TEXT),
        "size": "Auto",
    }


def _item(item: Item, width: int, links: LinkPolicy, t: Texts) -> Element:
    text = "• " + (truncate(one_line(item.text), width) or t._(UNTITLED))
    runs = linked_runs(text, classify_link(item.url, links), t=t)
    detail = one_line(item.detail or "")
    if detail:
        runs.append(run(" — " + truncate(detail, width), isSubtle=True))
    return rich(*runs, spacing="None")


def _section(section: Section, level: tuple[int, int, int], links: LinkPolicy, t: Texts) -> list[Element]:
    text_chars, items, width = level
    out: list[Element] = []
    title = one_line(section.title or "")
    if title:
        out.append(plain(title, TITLE, {"separator": True}, weight="Bolder"))
    body = (section.text or "").strip()
    if body:
        out.append(plain(body, text_chars))
    if section.facts:
        out.append(facts([(f.label, f.value) for f in section.facts], width * 4))
    if section.chart is not None:
        out.append(_image(section.chart))
    shown = section.items[:items]
    out.extend(_item(i, width, links, t) for i in shown)
    left = len(section.items) - len(shown) + max(0, section.more)
    if left > 0:
        out.append(rich(run(more_line(t, left), isSubtle=True), spacing="None"))
    return out


def render_teams_reply(reply: Reply, links: LinkPolicy = DEFAULT_LINKS, texts: Texts = EN) -> dict[str, Any]:
    """The Adaptive Card answering a command typed in a Teams channel (`links`: which hosts are Marketo's).

    `texts` is the language of the few words the renderer adds ("… and 3 more").
    """
    title = ("⚠️ " if not reply.ok else "") + (one_line(reply.title) or "notifbot")
    head = plain(title, TITLE, size="Medium", weight="Bolder")
    footer = one_line(reply.footer or "")
    tail = [plain(footer, 1_000, {"separator": True}, size="Small", isSubtle=True)] if footer else []
    for level in LEVELS:
        body = [head, *(e for s in reply.sections for e in _section(s, level, links, texts)), *tail]
        out = card(body, fallback=title)
        if card_size(out) <= MAX_CARD_BYTES:
            return out
    too_long = texts._("The answer is too long for a Teams message; ask for less.")
    return card([head, plain(too_long, 200), *tail])
