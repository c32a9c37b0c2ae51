"""Adaptive Cards 1.5 as HTML in card layout: Teams' markdown subset, its palette, every value escaped once.

A pure view of the card the bot posts (what `render_teams` and `render_teams_reply` produce, or a Workflows
message carrying cards), for the sandbox and the console; elements it does not draw show as a visible box.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

from notifbot.render.card import CARD_CONTENT_TYPE
from notifbot.render.html import (
    UNSUPPORTED_ELEMENT,
    Attrs,
    Held,
    el,
    image_src,
    join,
    link,
    marks,
    safe_url,
    unsupported,
)

# Adaptive Card enums (case-insensitive) → chat.css classes
COLORS = {c: f"nb-c-{c}" for c in ("dark", "light", "accent", "good", "warning", "attention")}
SIZES = {"small": "nb-s-small", "medium": "nb-s-medium", "large": "nb-s-large", "extralarge": "nb-s-xlarge"}
WEIGHTS = {"bolder": "nb-w-bolder", "lighter": "nb-w-lighter"}
SPACINGS = {s: f"nb-sp-{s}" for s in ("none", "small", "medium", "large", "extralarge", "padding")}
ALIGNS = {"center": "nb-al-center", "right": "nb-al-right"}
STYLES = {s: f"nb-st-{s}" for s in ("emphasis", "good", "attention", "warning", "accent")}
IMAGE_SIZES = {s: f"nb-img-{s}" for s in ("small", "medium", "large", "stretch")}

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^()\s]+)\)")
_MARKS = (
    (re.compile(r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*"), "b"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])"), "i"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=\S)_(?![\w_])"), "i"),
)
_BULLET = re.compile(r"\s*[-*]\s+(.*)")
_NUMBERED = re.compile(r"\s*\d{1,9}\.\s+(.*)")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _low(value: object) -> str:
    return value.lower() if isinstance(value, str) else ""


def _inline(text: str, held: Held) -> Markup:
    """One line of TextBlock markdown: [links](url) (http(s) only), then the markers on the escaped text."""
    text = _LINK.sub(lambda m: held.hold(link(m.group(2), _inline(m.group(1), held))), text)
    return held.restore(marks(str(escape(text)), held, _MARKS))


def markdown_html(text: str) -> Markup:
    """The markdown Teams shows in a TextBlock or a fact: paragraphs, `- `/`1. ` lists, bold, italic, links."""
    held = Held()
    paragraphs = []
    for paragraph in _PARAGRAPHS.split(Held.clean(text).strip("\n")):
        out: list[Markup] = []
        lines: list[Markup] = []
        items: list[Markup] = []
        ordered = False
        for line in paragraph.split("\n"):
            item = _BULLET.fullmatch(line) or _NUMBERED.fullmatch(line)
            if item is not None:
                if lines:
                    out.append(join(lines, el("br")))
                    lines = []
                ordered = item.re is _NUMBERED if not items else ordered
                items.append(el("li", None, _inline(item.group(1), held)))
                continue
            if items:
                out.append(el("ol" if ordered else "ul", None, items))
                items = []
            lines.append(_inline(line, held))
        if items:
            out.append(el("ol" if ordered else "ul", None, items))
        if lines:
            out.append(join(lines, el("br")))
        paragraphs.append(el("div", {"class": ("nb-p",)}, out))
    return join(paragraphs)


def _box(element: Mapping[str, Any], *extra: str) -> tuple[str, ...]:
    """The classes every element shares: spacing above, a separator line, alignment."""
    classes = [*extra]
    for value, table in ((element.get("spacing"), SPACINGS), (element.get("horizontalAlignment"), ALIGNS)):
        if _low(value) in table:
            classes.append(table[_low(value)])
    if element.get("separator") is True:
        classes.append("nb-sep")
    return tuple(classes)


def _text_style(element: Mapping[str, Any]) -> tuple[str, ...]:
    classes = []
    for key, table in (("color", COLORS), ("size", SIZES), ("weight", WEIGHTS)):
        if _low(element.get(key)) in table:
            classes.append(table[_low(element.get(key))])
    flags = (("isSubtle", "nb-subtle"), ("italic", "nb-italic"), ("strikethrough", "nb-strike"))
    classes += [cls for key, cls in flags if element.get(key) is True]
    if _low(element.get("fontType")) == "monospace":
        classes.append("nb-mono")
    return tuple(classes)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _text_block(element: Mapping[str, Any]) -> Markup:
    classes = _box(element, "nb-textblock", *_text_style(element))
    if element.get("wrap") is not True:  # Teams cuts such a line; the view shows it whole, past the edge
        classes = (*classes, "nb-nowrap")
    role: Attrs = {"role": "heading", "aria-level": 4} if _low(element.get("style")) == "heading" else {}
    return el("div", {"class": classes, **role}, markdown_html(_str(element.get("text"))))


def _run(inline: object) -> Markup:
    if isinstance(inline, str):
        return el("span", None, inline)
    if not isinstance(inline, Mapping) or inline.get("type") != "TextRun":
        return unsupported(
            UNSUPPORTED_ELEMENT, inline.get("type") if isinstance(inline, Mapping) else "inline"
        )
    span = el("span", {"class": _text_style(inline)}, _str(inline.get("text")))  # runs are never markdown
    action = inline.get("selectAction")
    if isinstance(action, Mapping) and action.get("type") == "Action.OpenUrl":
        return link(action.get("url"), span)
    return span


def _rich(element: Mapping[str, Any]) -> Markup:
    inlines = element.get("inlines")
    runs = [_run(i) for i in inlines] if isinstance(inlines, list) else []
    return el("p", {"class": _box(element, "nb-richtext")}, runs)


def _facts(element: Mapping[str, Any]) -> Markup:
    facts = []
    for fact in element.get("facts") or []:
        if not isinstance(fact, Mapping):
            continue
        title = el("dt", None, markdown_html(_str(fact.get("title"))))
        facts.append(
            el("div", {"class": ("nb-fact",)}, title, el("dd", None, markdown_html(_str(fact.get("value")))))
        )
    return el("dl", {"class": _box(element, "nb-factset")}, facts)


def _items(element: Mapping[str, Any], key: str = "items") -> list[Markup]:
    items = element.get(key)
    return [element_html(i) for i in items] if isinstance(items, list) else []


def _container(element: Mapping[str, Any]) -> Markup:
    style = STYLES.get(_low(element.get("style")))
    return el("div", {"class": _box(element, "nb-container", *((style,) if style else ()))}, _items(element))


def _column_width(width: object) -> str:
    if isinstance(width, int | float) or (isinstance(width, str) and width.isdigit()):
        return "nb-col-weighted"
    return "nb-col-auto" if _low(width) == "auto" or _low(width).endswith("px") else "nb-col-stretch"


def _columns(element: Mapping[str, Any]) -> Markup:
    columns = []
    for column in element.get("columns") or []:
        if not isinstance(column, Mapping) or column.get("type", "Column") != "Column":
            columns.append(unsupported(UNSUPPORTED_ELEMENT, "column"))
            continue
        classes = _box(column, "nb-column", _column_width(column.get("width")))
        columns.append(el("div", {"class": classes}, _items(column)))
    return el("div", {"class": _box(element, "nb-columnset")}, columns)


def _image(element: Mapping[str, Any]) -> Markup:
    src = image_src(element.get("url"))
    alt = _str(element.get("altText"))
    size = IMAGE_SIZES.get(_low(element.get("size")))
    classes = _box(element, "nb-card-image", *((size,) if size else ()))
    if _low(element.get("style")) == "person":
        classes = (*classes, "nb-img-person")
    if src is None:
        return el("span", {"class": ("nb-image-missing", *classes)}, alt or "image")
    return el("img", {"class": classes, "src": src, "alt": alt})


def action_html(action: object) -> Markup:
    """A card action: Action.OpenUrl a link (http(s) only), Action.Submit/Execute a button with its data."""
    if not isinstance(action, Mapping):
        return unsupported(UNSUPPORTED_ELEMENT, "action")
    kind = action.get("type")
    title = _str(action.get("title"))
    style = {"positive": "nb-primary", "destructive": "nb-danger"}.get(_low(action.get("style")))
    classes = ("nb-button", *((style,) if style else ()))
    if kind == "Action.OpenUrl":
        if safe_url(action.get("url")) is None:
            return el(
                "button", {"type": "button", "class": (*classes, "nb-link-refused"), "disabled": True}, title
            )
        return link(action.get("url"), title, classes)
    if kind in ("Action.Submit", "Action.Execute"):
        data = action.get("data")
        attrs: Attrs = {
            "type": "button",
            "class": classes,
            "data-action-type": kind,
            "data-verb": _str(action.get("verb")) or None,
            "data-data": json.dumps(data, ensure_ascii=False, default=str) if data is not None else None,
        }
        return el("button", attrs, title)
    if kind == "Action.ShowCard" and isinstance(action.get("card"), Mapping):
        summary = el("summary", {"class": classes}, title)
        return el("details", {"class": ("nb-showcard",)}, summary, render_card_html(action["card"]))
    return unsupported(UNSUPPORTED_ELEMENT, kind)


def _actions(actions: object, element: Mapping[str, Any] | None = None) -> Markup:
    shown = [action_html(a) for a in actions] if isinstance(actions, list) else []
    return el("div", {"class": _box(element or {}, "nb-card-actions")}, shown)


ELEMENTS: Mapping[str, Callable[[Mapping[str, Any]], Markup]] = {
    "TextBlock": _text_block,
    "RichTextBlock": _rich,
    "FactSet": _facts,
    "Container": _container,
    "ColumnSet": _columns,
    "Image": _image,
    "ImageSet": lambda e: el("div", {"class": _box(e, "nb-imageset")}, _items(e, "images")),
    "ActionSet": lambda e: _actions(e.get("actions"), e),
}


def element_html(element: object) -> Markup:
    """One card element; an unknown one shows its `fallback` element when it has one, else a visible box."""
    if not isinstance(element, Mapping):
        return unsupported(UNSUPPORTED_ELEMENT, type(element).__name__)
    kind = element.get("type")
    if not isinstance(kind, str) or kind not in ELEMENTS:
        fallback = element.get("fallback")
        return (
            element_html(fallback)
            if isinstance(fallback, Mapping)
            else unsupported(UNSUPPORTED_ELEMENT, kind)
        )
    try:
        return ELEMENTS[kind](element)
    except (KeyError, TypeError, AttributeError):  # a malformed element shows as such, never costs the card
        return unsupported(UNSUPPORTED_ELEMENT, kind)


def render_card_html(card: Mapping[str, Any]) -> Markup:
    """An Adaptive Card (`render_teams`, `render_teams_reply`) as an HTML fragment in card layout."""
    if card.get("type") != "AdaptiveCard":
        return unsupported(UNSUPPORTED_ELEMENT, card.get("type"))
    msteams = card.get("msteams")
    full = isinstance(msteams, Mapping) and _low(msteams.get("width")) == "full"
    body = card.get("body")
    content = [element_html(e) for e in body] if isinstance(body, list) else []
    actions = _actions(card.get("actions")) if card.get("actions") else None
    return el(
        "div", {"class": ("nb-message", "nb-card", *(("nb-card-full",) if full else ()))}, content, actions
    )


def render_teams_message_html(message: Mapping[str, Any]) -> Markup:
    """A Teams message as a Workflows webhook receives it (`attachments` of cards), or one card, as HTML."""
    if message.get("type") != "message":
        return render_card_html(message)
    cards = []
    for attachment in message.get("attachments") or []:
        content = attachment.get("content") if isinstance(attachment, Mapping) else None
        if (
            isinstance(attachment, Mapping)
            and attachment.get("contentType") == CARD_CONTENT_TYPE
            and isinstance(content, Mapping)
        ):
            cards.append(render_card_html(content))
        else:
            cards.append(unsupported(UNSUPPORTED_ELEMENT, "attachment"))
    return join(cards)
