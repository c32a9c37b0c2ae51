"""The sandbox page's message fragments: Slack messages with working buttons, Teams cards, ephemeral answers.

Slack blocks are drawn by `render.slack_html` except `actions`, whose buttons become small forms posting to
`/act` (so they work without JavaScript); a button with a `confirm` carries its dialog. Each fragment is rendered
once per version of a message and shared by the page and the live feed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from notifbot.render.card_html import render_card_html
from notifbot.render.html import el
from notifbot.render.slack_html import (
    STYLES,
    block_html,
    button_html,
    render_slack_html,
    text_html,
    with_names,
)
from notifbot.sandbox.chat import Ephemeral, Message
from notifbot.sandbox.slack_api import USER_NAMES

CACHE = 2_000  # message bodies kept rendered (a page holds at most 300 per channel)


def templates() -> Environment:
    """The sandbox's Jinja environment: templates in the package, every value escaped, unknown names an error."""
    return Environment(
        loader=PackageLoader("notifbot.sandbox", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def dom_id(prefix: str, channel: str, ts: str = "") -> str:
    """An element id for a channel (`ch`) or a message (`m`): the same on the page and in the feed."""
    return f"{prefix}-{channel}-{ts}" if ts else f"{prefix}-{channel}"


def _hidden(fields: Mapping[str, str | None]) -> list[Markup]:
    """Hidden inputs (render.html's `el` knows no void <input>; Markup.format escapes each value)."""
    return [
        Markup('<input type="hidden" name="{}" value="{}">').format(name, value)
        for name, value in fields.items()
        if value is not None
    ]


@dataclass(frozen=True)
class Confirm:
    """A button's confirm dialog, its words as HTML (Slack's defaults where the bot gives none)."""

    title: Markup
    text: Markup
    yes: Markup
    deny: Markup
    style: str

    @classmethod
    def of(cls, confirm: Mapping[str, Any]) -> Confirm:
        return cls(
            title=text_html(confirm["title"]) if "title" in confirm else Markup("Are you sure?"),
            text=text_html(confirm.get("text")),
            yes=text_html(confirm.get("confirm", {"type": "plain_text", "text": "Yes"})),
            deny=text_html(confirm.get("deny", {"type": "plain_text", "text": "Cancel"})),
            style=STYLES.get(str(confirm.get("style")), "nb-primary"),
        )


def confirm_dialog(confirm: Mapping[str, Any], label_id: str) -> Markup:
    """A button's `confirm` as a closed <dialog> inside its form: the confirm button submits with confirmed=1."""
    c = Confirm.of(confirm)
    return el(
        "dialog",
        {"class": ("nb-confirm",), "aria-labelledby": label_id},
        el("h4", {"class": ("nb-confirm-title",), "id": label_id}, c.title),
        el("div", {"class": ("nb-confirm-text",)}, c.text),
        el(
            "div",
            {"class": ("nb-confirm-choices",)},
            el("button", {"type": "button", "class": ("nb-button",), "data-confirm": "deny"}, c.deny),
            el(
                "button",
                {"type": "submit", "class": ("nb-button", c.style), "name": "confirmed", "value": "1"},
                c.yes,
            ),
        ),
    )


def button_form(m: Message, button: Mapping[str, Any], index: int) -> Markup:
    """One Block Kit button: a form posting the click to /act; a URL button stays a link (the script also
    reports its click, as Slack does)."""
    if button.get("url") is not None:
        return button_html(button)
    style = str(button.get("style"))
    classes = ("nb-button", *((STYLES[style],) if style in STYLES else ()))
    fields = {
        "channel": m.channel,
        "ts": m.ts,
        "action_id": button.get("action_id") if isinstance(button.get("action_id"), str) else "",
        "value": button.get("value") if isinstance(button.get("value"), str) else None,
    }
    confirm = button.get("confirm")
    dialog = None
    if isinstance(confirm, Mapping):
        dialog = confirm_dialog(confirm, dom_id("d", m.channel, f"{m.ts}-{index}"))
    return el(
        "form",
        {"method": "post", "action": "/act", "class": ("sb-act",), "data-confirm": dialog is not None},
        _hidden(fields),
        el("button", {"type": "submit", "class": classes}, text_html(button.get("text"))),
        dialog,
    )


def _actions(m: Message, block: Mapping[str, Any]) -> Markup:
    """An actions block whose buttons are forms; with any other element, as `slack_html` draws it (inert)."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not all(
        isinstance(e, Mapping) and e.get("type") == "button" for e in elements
    ):
        return block_html(block)
    shown = [button_form(m, e, i) for i, e in enumerate(elements)]
    block_id = block.get("block_id")
    attrs = {"class": ("nb-actions",), "data-block-id": block_id if isinstance(block_id, str) else None}
    return el("div", attrs, shown)


def slack_body(m: Message, names: Mapping[str, str] = USER_NAMES) -> Markup:
    """A Slack message as `render_slack_html` draws it, with working buttons; users `names` knows by name."""
    if not isinstance(m.blocks, list) or not m.blocks:
        return render_slack_html({"text": m.text}, names)
    parts = [
        _actions(m, b) if isinstance(b, Mapping) and b.get("type") == "actions" else block_html(b)
        for b in with_names(m.blocks, names)
    ]
    return el("div", {"class": ("nb-message", "nb-slack")}, parts)


@dataclass(frozen=True)
class Shown:
    """One message or ephemeral answer as the page's message template takes it."""

    id: str
    channel: str
    ts: str
    source: str
    author: str
    badge: str
    iso: str
    clock: str
    edited: bool
    body: Markup
    user: str | None = None  # an ephemeral answer's reader
    thread: bool = False  # a top-level Slack message, which may get replies


def _when(ts: str) -> tuple[str, str]:
    seconds = float(ts)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))
    return iso, time.strftime("%H:%M:%S", time.localtime(seconds))


class Views:
    """Renders messages to fragments through the templates, each body once per version of its message."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._bodies: OrderedDict[tuple[str, str, str, int], Markup] = OrderedDict()

    def body(self, m: Message) -> Markup:
        key = (m.source, m.channel, m.ts, m.edits)
        cached = self._bodies.get(key)
        if cached is None:
            cached = render_card_html(m.card or {}) if m.source == "teams" else slack_body(m)
            self._bodies[key] = cached
            if len(self._bodies) > CACHE:
                self._bodies.popitem(last=False)
        return cached

    def shown(self, m: Message) -> Shown:
        iso, clock = _when(m.ts)
        teams = m.source == "teams"
        return Shown(
            id=dom_id("m", m.channel, m.ts),
            channel=m.channel,
            ts=m.ts,
            source=m.source,
            author="notifbot",
            badge="Workflows" if teams else "APP",
            iso=iso,
            clock=clock,
            edited=m.edits > 0,
            body=self.body(m),
            thread=not teams and m.thread_ts is None,
        )

    def message(self, m: Message, replies: list[Message] | None = None) -> Markup:
        """A message's <article> (with its thread's replies, when given)."""
        shown = [self.message(r) for r in replies or []]
        template = self.env.get_template("message.html")
        return Markup(template.render(m=self.shown(m), replies=shown))

    def ephemeral(self, e: Ephemeral) -> Markup:
        """An answer only its user sees, with "Only visible to you" and a dismiss button."""
        iso, clock = _when(e.ts)
        shown = Shown(
            id=dom_id("m", e.channel, e.ts),
            channel=e.channel,
            ts=e.ts,
            source="slack",
            author="notifbot",
            badge="APP",
            iso=iso,
            clock=clock,
            edited=False,
            body=render_slack_html({"text": e.text, "blocks": e.blocks}, USER_NAMES),
            user=e.user,
        )
        return Markup(self.env.get_template("message.html").render(m=shown, replies=[]))
