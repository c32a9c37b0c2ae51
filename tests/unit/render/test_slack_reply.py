"""`render_reply`: command replies as Slack messages — escaped, https-only links, always within limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack_reply import render_reply
from notifbot.replies import Fact, Item, Reply, Section
from tests.unit.render.helpers import all_text, assert_valid

EVIL = "<!channel> <@U123> <https://evil.example|click> & *bold*"


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn text plus the fallback (what Slack parses for mentions and links)."""
    out = [message["text"]]
    for block in message["blocks"]:
        if block["type"] == "section":
            out += [block["text"]["text"]] if "text" in block else []
            out += [f["text"] for f in block.get("fields", [])]
        elif block["type"] == "context":
            out += [e["text"] for e in block["elements"]]
    return out


def test_basic_shape() -> None:
    reply = Reply(
        "Marketo API quota",
        (Section(title="123-ABC-456", text="line one\nline two", facts=(Fact("Used", "1 of 2"),)),),
        footer="resets at midnight",
    )
    message = render_reply(reply)
    assert_valid(message)
    assert message["response_type"] == "ephemeral"
    assert message["text"] == "Marketo API quota: line one line two"
    header, body, fields, footer = message["blocks"]
    assert header["text"]["text"] == "Marketo API quota"
    assert body["text"]["text"] == "*123-ABC-456*\nline one\nline two"
    assert fields["fields"] == [{"type": "mrkdwn", "text": "*Used*\n1 of 2"}]
    assert footer == {"type": "context", "elements": [{"type": "mrkdwn", "text": "resets at midnight"}]}
    assert render_reply(Reply("t", visibility="in_channel"))["response_type"] == "in_channel"
    assert render_reply(Reply("Not allowed", ok=False))["blocks"][0]["text"]["text"].startswith(":warning:")


def test_every_text_is_escaped() -> None:
    reply = Reply(
        EVIL,
        (
            Section(
                title=EVIL,
                text=EVIL,
                facts=(Fact(EVIL, EVIL),),
                items=(
                    Item(EVIL, detail=EVIL),
                    Item(EVIL, url="https://ok.example/a?x=1&y=<2>", detail=EVIL),
                ),
            ),
        ),
        footer=EVIL,
    )
    message = render_reply(reply)
    assert_valid(message)
    for text in mrkdwn_texts(message):
        assert "<!" not in text and "<@" not in text and "<https://evil" not in text, text
        assert "&lt;!channel&gt;" in text, text
    assert "<!channel>" not in all_text(message) and "<@U123>" not in all_text(message)
    assert "&lt;!channel&gt; &lt;@U123&gt;" in message["text"]
    # the one link is ours: https only, its own text escaped, the URL's & escaped as Slack wants
    links = re.findall(r"<(https?://[^|>]*)\|", json.dumps(message))
    assert links == []  # "https://ok.example/a?x=1&y=<2>" has < >: not a safe URL, so not linked
    ok = render_reply(Reply("t", (Section(items=(Item("go", url="https://app.marketo.com/a?x=1&y=2"),)),)))
    assert ok["blocks"][1]["text"]["text"] == "• <https://app.marketo.com/a?x=1&amp;y=2|go>"


@pytest.mark.parametrize(
    "url",
    [
        "http://plain.example",
        "javascript:alert(1)",
        "mailto:a@b.c",
        "https://",
        "https://a b.example",
        "ftp://x",
    ],
)
def test_only_https_urls_are_linked(url: str) -> None:
    message = render_reply(Reply("t", (Section(items=(Item("name", url=url, detail="d"),)),)))
    assert message["blocks"][1]["text"]["text"] == "• name — d"


def test_huge_replies_stay_within_limits() -> None:
    items = tuple(
        Item(EVIL * 50, url="https://ok.example/" + "a" * 900, detail=EVIL * 50) for _ in range(500)
    )
    facts = tuple(Fact(EVIL * 20, EVIL * 500) for _ in range(35))
    sections = tuple(
        Section(title=EVIL * 20, text=EVIL * 1000, facts=facts, items=items, more=10_000) for _ in range(10)
    )
    message = render_reply(Reply(EVIL * 100, sections, footer=EVIL * 1000))
    assert slack_limit_problems(message) == []
    assert_valid(message)
    assert len(message["blocks"]) == 50
    assert message["blocks"][-1]["type"] == "context"  # the footer survives the cut
    assert "more parts left out" in message["blocks"][-2]["text"]["text"]


def test_long_lists_say_how_many_are_left_out() -> None:
    items = tuple(
        Item(f"Campaign {i}", url=f"https://app.example/#SC{i}", detail="idle 200 days") for i in range(500)
    )
    message = render_reply(Reply("Stale", (Section(items=items, more=25),)))
    assert_valid(message)
    lists = [b["text"]["text"] for b in message["blocks"][1:]]
    shown = sum(t.count("• ") for t in lists)
    assert 40 < shown < 500
    assert lists[-1].endswith(f"… and {500 - shown + 25:,} more")
    small = render_reply(Reply("Top users", (Section(items=(Item("a"),), more=3),)))
    assert small["blocks"][1]["text"]["text"] == "• a\n… and 3 more"


def test_empty_and_blank_parts_never_make_empty_blocks() -> None:
    reply = Reply(
        "", (Section(), Section(text="   "), Section(facts=(Fact("", ""),)), Section(items=(Item(""),)))
    )
    message = render_reply(reply)
    assert_valid(message)
    assert message["text"] == "notifbot" and message["blocks"][0]["text"]["text"] == "notifbot"
    assert {"type": "mrkdwn", "text": "*?*\n—"} in message["blocks"][1]["fields"]
    assert message["blocks"][2]["text"]["text"] == "• (untitled)"
