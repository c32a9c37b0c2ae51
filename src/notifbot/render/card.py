"""Adaptive Card 1.5 building blocks shared by the Teams renderers: safe text, elements, and the size budget."""

from __future__ import annotations

import json
from typing import Any

from notifbot.i18n import EN, Texts
from notifbot.links import Link, neutral_label
from notifbot.text import one_line, truncate

Element = dict[str, Any]

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams refuses messages over ~28 KB; the card is kept well below so the envelope (Graph or Workflows) fits too.
MAX_CARD_BYTES = 26_000
ZWSP = "\u200b"


def md_safe(text: str) -> str:
    """Untrusted text for a markdown-rendering field (TextBlock, Fact): no link syntax, no template functions."""
    return text.replace("](", f"]{ZWSP}(").replace("{{", f"{{{ZWSP}{{").replace("<at>", f"<{ZWSP}at>")


def card_size(card: dict[str, Any]) -> int:
    """UTF-8 bytes of the card as compact JSON (what Teams counts against its message limit)."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def run(text: str, **style: Any) -> Element:
    """A TextRun: shown as is (RichTextBlock never interprets markdown), so safe for untrusted text."""
    return {"type": "TextRun", "text": text, **style}


def rich(*runs: Element, **props: Any) -> Element:
    """A RichTextBlock of runs (empty runs dropped)."""
    return {"type": "RichTextBlock", "inlines": [r for r in runs if r.get("text")], **props}


def plain(text: str, limit: int, block: dict[str, Any] | None = None, **style: Any) -> Element:
    """One RichTextBlock (with `block` properties) holding one run of untrusted text cut to `limit` chars."""
    return rich(run(truncate(text, limit), **style), **(block or {}))


def label(text: str, **props: Any) -> Element:
    """A bold TextBlock heading (our own wording, never untrusted)."""
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "wrap": True, **props}


def link_run(text: str, url: str | None, **style: Any) -> Element:
    """A TextRun that opens `url` when clicked (plain when there is no https URL)."""
    element = run(text, **style)
    if url:
        element["selectAction"] = {"type": "Action.OpenUrl", "url": url}
    return element


def linked_runs(text: str, link: Link | None, *, t: Texts = EN, **style: Any) -> list[Element]:
    """`text` opening `link` when its host is Marketo's; else `text` then a neutral run that shows the host."""
    if link is None:
        return [run(text, **style)]
    if link.marketo:
        return [link_run(text, link.url, **style)]
    return [run(text, **style), run(" · "), link_run(neutral_label(link.host, t=t), link.url)]


def facts(pairs: list[tuple[str, str]], limit: int) -> Element:
    """A FactSet; titles and values are one line, markdown-neutralised and cut to `limit`."""
    return {
        "type": "FactSet",
        "facts": [
            {
                "title": md_safe(truncate(one_line(t), 100)) or "?",
                "value": md_safe(truncate(v.strip(), limit)) or "—",
            }
            for t, v in pairs
        ],
    }


def card(body: list[Element], actions: list[Element] | None = None, *, fallback: str = "") -> dict[str, Any]:
    """A Teams Adaptive Card 1.5 at full width."""
    out: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        out["actions"] = actions
    if fallback:
        out["fallbackText"] = md_safe(truncate(one_line(fallback), 500))
    out["msteams"] = {"width": "Full"}
    return out
