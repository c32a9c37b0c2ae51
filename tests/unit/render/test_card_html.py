"""Adaptive Card → HTML: every value escaped once, Teams' markdown subset, http(s)-only links, every sample renders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifbot.destinations.teams_workflow import workflow_payload
from notifbot.groups import GroupView, ThreadItems
from notifbot.i18n import EN, Texts, texts_for
from notifbot.kinds import load_samples
from notifbot.model import Acked, Notification
from notifbot.render.card import ZWSP
from notifbot.render.card_html import markdown_html, render_card_html, render_teams_message_html
from notifbot.render.teams import render_teams, render_teams_thread
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T, note
from tests.unit.render.html_tree import Node, assert_inert, parse

SAMPLES = load_samples()
SV = texts_for("sv", "Europe/Stockholm")
XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)")
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="


def card_of(*body: dict[str, Any], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": list(body), "actions": actions or []}


def html(card: dict[str, Any]) -> Node:
    root = parse(str(render_card_html(card)))
    assert_inert(root)
    return root


def md(text: str) -> Node:
    root = parse(str(markdown_html(text)))
    assert_inert(root)
    return root


@pytest.mark.parametrize("payload", XSS)
def test_payloads_in_every_slot_stay_text(payload: str) -> None:
    card = card_of(
        {"type": "TextBlock", "text": payload, "color": payload, "size": payload},
        {
            "type": "RichTextBlock",
            "inlines": [
                {
                    "type": "TextRun",
                    "text": payload,
                    "selectAction": {"type": "Action.OpenUrl", "url": payload},
                }
            ],
        },
        {"type": "FactSet", "facts": [{"title": payload, "value": payload}]},
        {"type": "Image", "url": payload, "altText": payload},
        {"type": payload},
        actions=[
            {"type": "Action.OpenUrl", "title": payload, "url": payload},
            {"type": "Action.Submit", "title": payload, "data": {"k": payload}},
        ],
    )
    root = html(card)
    assert not root.find_all("img") and not root.find_all("a")
    assert root.find_all(cls="nb-textblock")[0].text() == payload
    assert root.find_all("dt")[0].text() == payload and root.find_all("dd")[0].text() == payload
    submit = next(b for b in root.find_all("button") if b.attr("data-action-type") == "Action.Submit")
    assert (
        submit.text() == payload
        and submit.attr("data-data") is not None
        and payload in submit.attr("data-data")
    )
    assert f"unsupported element: {payload}" in root.text()


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", " JAVASCRIPT:x", "data:text/html,<b>", "//evil", "ftp://x"]
)
def test_only_http_links_become_anchors(url: str) -> None:
    card = card_of(
        {"type": "TextBlock", "text": f"[bad]({url}) [good](https://example.com/a?b=1)", "wrap": True},
        {
            "type": "RichTextBlock",
            "inlines": [
                {"type": "TextRun", "text": "run", "selectAction": {"type": "Action.OpenUrl", "url": url}}
            ],
        },
        actions=[{"type": "Action.OpenUrl", "title": "Open", "url": url}],
    )
    root = html(card)
    (anchor,) = root.find_all("a")
    assert anchor.attr("href") == "https://example.com/a?b=1" and anchor.text() == "good"
    (button,) = root.find_all("button")
    assert button.text() == "Open" and ("disabled", None) in button.attrs


def test_markdown_subset() -> None:
    root = md(
        "**Bold _both_** and *it* _too_ snake_case 2*3*4\n- one\n- two **b**\n\n1. first\n2. second\n\nline\nbreak"
    )
    assert [n.text() for n in root.find_all("b")] == ["Bold both", "b"]
    assert [n.text() for n in root.find_all("i")] == ["both", "it", "too"]
    assert [li.text() for li in root.find_all("ul")[0].find_all("li")] == ["one", "two b"]
    assert [li.text() for li in root.find_all("ol")[0].find_all("li")] == ["first", "second"]
    assert len(root.find_all(cls="nb-p")) == 3 and len(root.find_all("br")) == 1
    assert "snake_case 2*3*4" in root.text()


def test_neutralised_links_and_html_stay_text() -> None:
    root = md(f"[label]{ZWSP}(https://evil.example) <b>x</b> &lt; {{{ZWSP}{{DATE()}}}}")
    assert not root.find_all("a") and not root.find_all("b")
    assert root.text() == f"[label]{ZWSP}(https://evil.example) <b>x</b> &lt; {{{ZWSP}{{DATE()}}}}"


def test_text_runs_are_never_markdown() -> None:
    run = {
        "type": "TextRun",
        "text": "**not bold** [x](https://a.example)",
        "weight": "Bolder",
        "color": "Good",
    }
    (p,) = html(card_of({"type": "RichTextBlock", "inlines": [run]})).find_all("p")
    (span,) = p.find_all("span")
    assert span.text() == run["text"] and {"nb-w-bolder", "nb-c-good"} <= span.classes()
    assert not p.find_all("b") and not p.find_all("a")


def test_layout_elements() -> None:
    card = card_of(
        {
            "type": "Container",
            "style": "emphasis",
            "items": [
                {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "width": "auto",
                            "items": [{"type": "Image", "url": PNG, "altText": "chart"}],
                        },
                        {
                            "type": "Column",
                            "width": "stretch",
                            "items": [{"type": "TextBlock", "text": "right"}],
                        },
                    ],
                },
            ],
        },
        {
            "type": "ActionSet",
            "actions": [{"type": "Action.OpenUrl", "title": "Go", "url": "https://a.example"}],
        },
    )
    root = html(card)
    (container,) = root.find_all(cls="nb-container")
    assert "nb-st-emphasis" in container.classes()
    auto, stretch = container.find_all(cls="nb-column")
    assert "nb-col-auto" in auto.classes() and "nb-col-stretch" in stretch.classes()
    (img,) = auto.find_all("img")
    assert img.attr("src") == PNG and img.attr("alt") == "chart"
    assert root.find_all("a", cls="nb-button")[0].text() == "Go"


def test_unknown_elements_are_visible_and_fallback_used() -> None:
    card = card_of(
        {"type": "Table", "rows": []},
        {"type": "Media", "fallback": {"type": "TextBlock", "text": "instead"}},
        {"type": "ColumnSet", "columns": [{"type": "Chart"}]},
        "not an element",
        actions=[{"type": "Action.ToggleVisibility", "title": "x"}],
    )
    root = html(card)
    assert [n.text() for n in root.find_all(cls="nb-unsupported")] == [
        "unsupported element: Table",
        "unsupported element: column",
        "unsupported element: str",
        "unsupported element: Action.ToggleVisibility",
    ]
    assert "instead" in root.text()


def test_workflow_message_envelope() -> None:
    card = render_teams(note("campaign_failure", {"campaign_name": "C"}))
    root = parse(str(render_teams_message_html(workflow_payload(card))))
    assert_inert(root)
    (message,) = root.find_all(cls="nb-card")
    assert "nb-card-full" in message.classes()
    bad = parse(
        str(render_teams_message_html({"type": "message", "attachments": [{"contentType": "text/html"}]}))
    )
    assert bad.text() == "unsupported element: attachment"


def test_a_long_text_cut_by_the_bot_stays_visibly_cut() -> None:
    card = render_teams(note("campaign_failure", {"campaign_name": "C", "error": "word " * 2_000}))
    cut = next(t for t in _texts(card) if t.startswith("word"))
    assert cut.endswith("…")
    assert cut[-40:] in html(card).text()


def _texts(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("text", "title", "value") and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _texts(value)


def _group(n: Notification, state: str = "firing") -> GroupView:
    items = tuple(f"Item <{i}> & **x**" for i in range(3))
    return GroupView(
        n, 12, T, T + timedelta(minutes=25), items, n.severity, state, key=f"kind={n.kind_label}"
    )


def _variants(n: Notification, t: Texts) -> dict[str, dict[str, Any]]:
    acked = Acked("someone@example.com", T + timedelta(minutes=7))
    return {
        "plain": render_teams(n, texts=t),
        "acknowledged": render_teams(n, acked=acked, texts=t),
        "group": render_teams(n, group=_group(n), texts=t),
        "resolved": render_teams(replace(n, status="resolved"), texts=t),
        "group_resolved": render_teams(n, group=_group(n, "resolved"), texts=t),
    }


@pytest.mark.parametrize("locale", ["en", "sv"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_and_variant_renders(name: str, locale: str) -> None:
    t = EN if locale == "en" else SV
    for variant, card in _variants(parse_event(SAMPLES[name], now=T), t).items():
        root = html(card)
        title = card["body"][0]["inlines"][0]["text"]
        assert root.find_all(cls="nb-richtext")[0].text() == title, variant
        labels = [a["title"] for a in card.get("actions", [])]
        shown = [n.text() for n in root.find_all(cls="nb-button")]
        assert shown == labels, variant
        assert not root.find_all(cls="nb-unsupported"), variant
        for run in (r for b in card["body"] if b["type"] == "RichTextBlock" for r in b["inlines"]):
            assert run["text"] in root.text()


def test_command_replies_and_threads_render() -> None:
    reply = Reply(
        "Quota <today>",
        (
            Section(title="123-ABC-456", text="line **one**\nline two", facts=(Fact("Used", "1 of 2"),)),
            Section(items=(Item("Campaign <x>", "https://app-ab12.marketo.com/#SC1", "idle"),)),
        ),
        footer="as of now",
    )
    root = html(render_teams_reply(reply))
    assert root.find_all("p")[0].text() == "Quota <today>"
    assert root.find_all("a")[0].attr("href") == "https://app-ab12.marketo.com/#SC1"
    assert "Campaign <x>" in root.text() and "as of now" in root.text()
    assert root.find_all("dt")[0].text() == "Used"
    thread = html(render_teams_thread(ThreadItems(("a <b>", "c"), 1, 2)))
    assert "a <b>" in thread.text()


ALPHABET = "ab *_-1.\n<>[]()&;:/ htpsjavcri'\"="


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_any_markdown_gives_well_nested_inert_html(text: str) -> None:
    md(text)  # parse() fails on misnesting, assert_inert on any live link or handler
