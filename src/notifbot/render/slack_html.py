"""Block Kit messages as HTML that looks like Slack's: mrkdwn formatted, mentions inert, every value escaped once.

A pure view of the JSON the bot posts (what `render_slack` and `render_reply` produce), for the sandbox and the
console; blocks it does not draw show as a visible "unsupported block" box, never dropped. A user mention shows its
label, else the user id, unless the caller knows the user's name (`names`: Slack shows the display name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

from notifbot.render.html import (
    UNSUPPORTED_BLOCK,
    UNSUPPORTED_ELEMENT,
    Attrs,
    Content,
    Held,
    el,
    image_src,
    join,
    link,
    marks,
    safe_url,
    unsupported,
)
from notifbot.text import escape_mrkdwn, unescape_mrkdwn

# the emoji codes the bot writes, as the characters Slack shows; any other code stays text
EMOJI: Mapping[str, str] = {
    ":red_circle:": "🔴",
    ":large_orange_circle:": "🟠",
    ":large_blue_circle:": "🔵",
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":bell:": "🔔",
    ":alarm_clock:": "⏰",
}
STYLES: Mapping[str, str] = {"primary": "nb-primary", "danger": "nb-danger"}
BROADCASTS = frozenset({"here", "channel", "everyone"})

_CONTROL = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_PRE = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")
# Slack's word-boundary rule for the inline markers (the same pattern as render/console.py's bold)
_MARKS = (
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), "s"),
)


def _pill(text: str, *classes: str) -> Markup:
    """A mention as Slack draws it, but inert: a highlighted span, never a link."""
    return el("span", {"class": ("nb-mention", *classes)}, text)


def _control(body: str) -> Markup:
    """One `<…>` control sequence: a link, a user/channel/group mention, a broadcast, or a date's fallback."""
    target, _, label = body.partition("|")
    label = unescape_mrkdwn(label)
    if target.startswith("@"):
        return _pill("@" + (label or target[1:]), "nb-user")
    if target.startswith("#"):
        return _pill("#" + (label or target[1:]), "nb-channel")
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in BROADCASTS:
            return _pill("@" + name, "nb-broadcast")
        if name == "subteam":
            return _pill(label or "@" + name, "nb-group")
        return el("span", {"class": ("nb-date",) if name == "date" else ()}, label or target)
    url = unescape_mrkdwn(target)
    return link(url, label or url)


def _escaped(text: str) -> str:
    """Slack's three entities decoded, then HTML-escaped once, known emoji codes as characters."""
    escaped = str(escape(unescape_mrkdwn(text)))
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(0), m.group(0)), escaped)


def mrkdwn_html(text: str) -> Markup:
    """Slack mrkdwn as HTML: control sequences, code and pre, *bold* _italic_ ~strike~, > quotes, line breaks."""
    held = Held()
    text = _CONTROL.sub(lambda m: held.hold(_control(m.group(1))), Held.clean(text))
    text = _PRE.sub(lambda m: held.hold(el("pre", {"class": ("nb-pre",)}, held.restore(_code(m)))), text)
    text = _CODE.sub(lambda m: held.hold(el("code", {"class": ("nb-code",)}, held.restore(_code(m)))), text)
    out: list[tuple[bool, str]] = []  # (is a block, escaped line with placeholders)
    quote: list[str] = []
    for line in [*text.split("\n"), None]:
        if line is not None and line.startswith(">"):
            quote.append(marks(_escaped(line[1:].removeprefix(" ")), held, _MARKS))
            continue
        if quote:
            out.append((True, held.hold(el("blockquote", {"class": ("nb-quote",)}, _lines(quote, held)))))
            quote = []
        if line is not None:
            out.append((False, marks(_escaped(line), held, _MARKS)))
    # a line break between two lines of text; a quote is a block of its own
    parts: list[str] = []
    for i, (block, piece) in enumerate(out):
        if i and not block and not out[i - 1][0]:
            parts.append(BR)
        parts.append(piece)
    return held.restore("".join(parts))


BR = str(el("br"))


def _code(m: re.Match[str]) -> str:
    return str(escape(unescape_mrkdwn(m.group(1))))


def _lines(lines: list[str], held: Held) -> Markup:
    return join((held.restore(line) for line in lines), el("br"))


def plain_html(text: str, emoji: bool = True) -> Markup:
    """A plain_text object's text: shown as written, emoji codes as characters when `emoji` (Slack's default)."""
    escaped = str(escape(text))
    return Markup(_EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(0), m.group(0)), escaped) if emoji else escaped)


def text_html(obj: object) -> Markup:
    """A Block Kit text object (mrkdwn or plain_text) as HTML; anything else as a visible box."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
        return unsupported(UNSUPPORTED_ELEMENT, "text")
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(obj["text"])
    if obj.get("type") == "plain_text":
        return plain_html(obj["text"], obj.get("emoji") is not False)
    return unsupported(UNSUPPORTED_ELEMENT, obj.get("type"))


def _confirm(confirm: Mapping[str, Any]) -> Markup:
    """A button's confirm dialog, closed until the sandbox opens it (its words are in the page all along)."""
    title = text_html(confirm["title"]) if "title" in confirm else None
    choices = []
    if "deny" in confirm:
        choices.append(
            el(
                "button",
                {"type": "button", "class": ("nb-button",), "data-confirm": "deny"},
                text_html(confirm["deny"]),
            )
        )
    if "confirm" in confirm:
        style = STYLES.get(str(confirm.get("style")), "nb-primary")
        attrs: Attrs = {"type": "button", "class": ("nb-button", style), "data-confirm": "confirm"}
        choices.append(el("button", attrs, text_html(confirm["confirm"])))
    return el(
        "dialog",
        {"class": ("nb-confirm",)},
        el("h4", {"class": ("nb-confirm-title",)}, title) if title is not None else None,
        el("div", {"class": ("nb-confirm-text",)}, text_html(confirm.get("text"))),
        el("div", {"class": ("nb-confirm-choices",)}, choices),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def button_html(button: Mapping[str, Any]) -> Markup:
    """A button: a link when it has an http(s) `url`, else a `<button>` carrying its action_id and value."""
    classes = ("nb-button", *((STYLES[s],) if (s := str(button.get("style"))) in STYLES else ()))
    data = {"data-action-id": _str(button.get("action_id")), "data-value": _str(button.get("value"))}
    label = text_html(button.get("text"))
    url = button.get("url")
    if url is not None and safe_url(url) is not None:
        target = el(
            "a",
            {
                "class": classes,
                "href": safe_url(url),
                "rel": ("noopener", "noreferrer"),
                "target": "_blank",
                **data,
            },
            label,
        )
    else:
        refused = ("nb-link-refused",) if url is not None else ()
        target = el("button", {"type": "button", "class": (*classes, *refused), **data}, label)
    confirm = button.get("confirm")
    if not isinstance(confirm, Mapping):
        return target
    return el("span", {"class": ("nb-action",), "data-has-confirm": True}, target, _confirm(confirm))


def _image(image: Mapping[str, Any], classes: tuple[str, ...]) -> Markup:
    alt = _str(image.get("alt_text")) or ""
    src = image_src(image.get("image_url"))
    if src is None:  # a slack_file, or a URL the view will not load: its alt text, visibly
        return el("span", {"class": ("nb-image-missing", *classes)}, alt or "image")
    return el("img", {"class": classes, "src": src, "alt": alt})


def _element(element: object) -> Markup:
    """An interactive or context element: buttons, images and text; other kinds as a visible box."""
    if not isinstance(element, Mapping):
        return unsupported(UNSUPPORTED_ELEMENT, type(element).__name__)
    kind = element.get("type")
    if kind == "button":
        return button_html(element)
    if kind == "image":
        return _image(element, ("nb-context-image",))
    if kind in ("mrkdwn", "plain_text"):
        return el("span", {"class": ("nb-context-item",)}, text_html(element))
    return unsupported(UNSUPPORTED_ELEMENT, kind)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _section(block: Mapping[str, Any]) -> Content:
    text = el("div", {"class": ("nb-text",)}, text_html(block["text"])) if "text" in block else None
    fields = [el("div", {"class": ("nb-field",)}, text_html(f)) for f in _list(block.get("fields"))]
    accessory = block.get("accessory")
    side = el("div", {"class": ("nb-accessory",)}, _element(accessory)) if accessory is not None else None
    if isinstance(accessory, Mapping) and accessory.get("type") == "image":
        side = el("div", {"class": ("nb-accessory",)}, _image(accessory, ("nb-accessory-image",)))
    body = el(
        "div",
        {"class": ("nb-section-body",)},
        text,
        el("div", {"class": ("nb-fields",)}, fields) if fields else None,
    )
    return [body, side]


def _image_block(block: Mapping[str, Any]) -> Content:
    title = block.get("title")
    caption = el("figcaption", None, text_html(title)) if title is not None else None
    return [caption, _image(block, ("nb-image",))]


BLOCKS: Mapping[str, tuple[str, str, Callable[[Mapping[str, Any]], Content]]] = {
    "header": ("h3", "nb-header", lambda b: text_html(b.get("text"))),
    "section": ("div", "nb-section", _section),
    "context": ("div", "nb-context", lambda b: [_element(e) for e in _list(b.get("elements"))]),
    "actions": ("div", "nb-actions", lambda b: [_element(e) for e in _list(b.get("elements"))]),
    "divider": ("hr", "nb-divider", lambda b: None),
    "image": ("figure", "nb-image-block", _image_block),
}


def block_html(block: object) -> Markup:
    """One block as HTML (with its block_id as `data-block-id`); an unknown type as a visible box."""
    if not isinstance(block, Mapping):
        return unsupported(UNSUPPORTED_BLOCK, type(block).__name__)
    kind = block.get("type")
    if not isinstance(kind, str) or kind not in BLOCKS:
        return unsupported(UNSUPPORTED_BLOCK, kind)
    name, cls, body = BLOCKS[kind]
    try:
        content = body(block)
    except (KeyError, TypeError, AttributeError):  # a malformed block shows as such, never costs the message
        return unsupported(UNSUPPORTED_BLOCK, kind)
    return el(name, {"class": (cls,), "data-block-id": _str(block.get("block_id"))}, content)


def with_names(value: Any, names: Mapping[str, str]) -> Any:
    """`value` (a message, its blocks, a block) with each `<@U…>` in its texts whose user `names` knows labelled
    `<@U…|name>`, so the views show that name as Slack shows a display name; a copy, other values unchanged."""
    if isinstance(value, Mapping):
        return {
            k: _USER_MENTION.sub(lambda m: _named(m, names), v)
            if k == "text" and isinstance(v, str)
            else with_names(v, names)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_names(v, names) for v in value]
    return value


def _named(mention: re.Match[str], names: Mapping[str, str]) -> str:
    user = mention.group(1)
    return f"<@{user}|{escape_mrkdwn(names[user])}>" if user in names else mention.group(0)


def render_slack_html(message: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Markup:
    """A Slack message (`text` and `blocks`, as `render_slack`/`render_reply` make it) as an HTML fragment.

    With no blocks the `text` is shown as mrkdwn, as Slack does; users `names` knows are mentioned by name.
    """
    if names:
        message = with_names(message, names)
    blocks = message.get("blocks")
    if isinstance(blocks, list) and blocks:
        body: Content = [block_html(b) for b in blocks]
    else:
        text = message.get("text")
        body = el("div", {"class": ("nb-text",)}, mrkdwn_html(text if isinstance(text, str) else ""))
    return el("div", {"class": ("nb-message", "nb-slack")}, body)
