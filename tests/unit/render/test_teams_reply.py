"""render_teams_reply: command replies as Adaptive Cards — schema-valid, https-only links, under 28 KB."""

from __future__ import annotations

from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Fact, Item, Reply, Section
from tests.unit.render.helpers import strings
from tests.unit.render.teams_helpers import assert_valid_card


def test_basic_shape() -> None:
    reply = Reply(
        "Marketo API quota",
        (Section(title="123-ABC-456", text="line one\nline two", facts=(Fact("Used", "1 of 2"),)),),
        footer="resets at midnight",
    )
    card = render_teams_reply(reply)
    assert_valid_card(card)
    texts = list(strings(card))
    assert "Marketo API quota" in texts and "123-ABC-456" in texts and "resets at midnight" in texts
    assert {"title": "Used", "value": "1 of 2"} in card["body"][3]["facts"]


def test_links_only_https_and_failure_marked() -> None:
    items = (
        Item("safe", url="https://app.marketo.com/1", detail="d"),
        Item("unsafe", url="javascript:alert(1)"),
    )
    card = render_teams_reply(Reply("Recent", (Section(items=items),), ok=False))
    assert_valid_card(card)
    assert card["body"][0]["inlines"][0]["text"].startswith("⚠️ ")
    runs = [r for b in card["body"] for r in b.get("inlines", [])]
    urls = [r["selectAction"]["url"] for r in runs if "selectAction" in r]
    assert urls == ["https://app.marketo.com/1"]


def test_huge_reply_is_cut_with_a_count() -> None:
    items = tuple(
        Item("x" * 400 + f" {i}", url=f"https://a.example/{i}", detail="y" * 600) for i in range(500)
    )
    card = render_teams_reply(Reply("Stale", (Section(text="界" * 50_000, items=items, more=1000),)))
    assert_valid_card(card)
    more = [t for t in strings(card) if t.startswith("… and ")]
    shown = sum(1 for t in strings(card) if t.startswith("• "))
    assert more == [f"… and {500 - shown + 1000:,} more"]
